// What both entries of @flotilla/edge-agent (index.ts for Node, browser.ts for pages) export alike: the agent,
// its events and results, typed tensors and errors. Each entry adds its own storage, runtime and factory.
export { Agent } from './core/agent.ts';
export type { AgentEvents, StateChange } from './core/agent-options.ts';
export type { ModelInfo } from './model/active-model.ts';
export type { AcceleratorOptions, ProviderChoice } from './model/accelerator.ts';
export type { ReadyOptions } from './core/ready.ts';
export type { Prediction, BatchPrediction, NamedPrediction } from './model/predictions.ts';
export type { NamedInputs } from './model/named-predict.ts';
export {
  TENSOR_TYPES,
  floatToHalf,
  halfToFloat,
  type Tensor,
  type TensorData,
  type TensorInput,
  type TensorJson,
  type TensorType,
} from './runtime/tensors.ts';
export { AgentError, isAgentError } from './errors.ts';
