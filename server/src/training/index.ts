// Public face of the training core: backend choice, specs, building, training, evaluation, data.
export { BACKEND_ORDER, selectBackend, type BackendInfo, type BackendName, type SelectBackendOptions } from './backend.ts';
export { buildModel, type BuildOptions } from './build-model.ts';
export { predictProbabilities } from './batches.ts';
export { featureSize, type Dataset } from '../datasets/dataset-types.ts';
export { evaluateModel, type Evaluation, type EvaluateOptions, type LatencyFigures } from './evaluate.ts';
export {
  DEFAULT_HYPERPARAMS,
  HyperparamsSchema,
  OPTIMIZERS,
  validateHyperparams,
  type Hyperparams,
  type HyperparamsInput,
} from './hyperparams.ts';
export { ECE_BINS, metricsFromProbabilities, type ClassMetrics, type ClassificationMetrics } from './metrics.ts';
export { loadMnist } from '../datasets/mnist-data.ts';
export {
  ACTIVATIONS,
  DEFAULT_CNN_SPEC,
  DEFAULT_DENSE_SPEC,
  LAYER_TYPES,
  WIDE_CNN_SPEC,
  type LayerListSpec,
  type LayerSpec,
  type ModelContext,
  type ModelSpec,
  type TopologySpec,
} from './model-spec.ts';
export { MAX_PARAMETERS, validateModelSpec, type ValidationResult } from './validate-model-spec.ts';
export { trainModel, type BatchProgress, type EpochMetrics, type TrainOptions, type TrainResult } from './train-loop.ts';
export { BackendUnavailableError, DatasetFitError, HyperparamsError, ModelSpecError } from './training-errors.ts';
export { registerWasmTrainingKernels, useWasmKernelReplacements } from './wasm-kernels.ts';
