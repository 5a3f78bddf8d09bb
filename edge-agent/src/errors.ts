// The agent's error class with stable codes; bundle failures keep the bundle library's own codes.
import { isBundleError } from '@flotilla/firmware-bundler';

/** Every failure the agent itself reports, by stable code (match on these, never on messages). */
export const AGENT_ERROR_CODES = [
  /** Options given to createAgent or the CLI are invalid. */
  'AGENT_CONFIG_INVALID',
  /** predict was called while no verified model is active. */
  'AGENT_NO_MODEL',
  /** predict input does not fit the model's input (size, type, batch). */
  'AGENT_INPUT_INVALID',
  /** The agent was closed. */
  'AGENT_CLOSED',
  /** `agent.ready({ timeoutMs })` saw no model serve in time. */
  'AGENT_READY_TIMEOUT',
  /** Reading or writing the agent's storage failed. */
  'AGENT_STORAGE_FAILED',
  /** The runtime could not load a model. */
  'AGENT_MODEL_LOAD_FAILED',
  /** Inference failed inside the runtime. */
  'AGENT_INFERENCE_FAILED',
  /** A self-test vector gave outputs outside its tolerance. */
  'AGENT_SELF_TEST_FAILED',
  /** Loading the model plus its self-tests took longer than the probe budget. */
  'AGENT_SELF_TEST_TIMEOUT',
  /** The signed envelope is malformed or does not hash to the digest the server named. */
  'AGENT_ENVELOPE_INVALID',
  /** The verified manifest is not the bundle the desired state names (model, version, sequence). */
  'AGENT_BUNDLE_MISMATCH',
  /** A blob could not be fetched (refused by the server, or retries exhausted). */
  'AGENT_DOWNLOAD_FAILED',
  /** The installed slot failed verification (torn write, disk damage). */
  'AGENT_SLOT_INVALID',
  /** The update was restarted more often than the loop guard allows. */
  'AGENT_LOOP_GUARD',
  /** The server could not tell the agent where the broker is. */
  'AGENT_BOOTSTRAP_FAILED',
  /** The server refused the device's token (HTTP 401): it may recover with its device key [WIRE-3.5]. */
  'AGENT_CREDENTIAL_REFUSED',
  /** The server's bundle key does not match the fingerprint the agent was told to trust, or it could not be fetched. */
  'AGENT_KEY_UNTRUSTED',
] as const;

export type AgentErrorCode = (typeof AGENT_ERROR_CODES)[number];

/** An agent failure with a stable {@link AgentErrorCode}. */
export class AgentError extends Error {
  constructor(
    readonly code: AgentErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AgentError';
  }
}

/** Whether `err` is an {@link AgentError}, optionally with the given code. */
export function isAgentError(err: unknown, code?: AgentErrorCode): err is AgentError {
  return err instanceof AgentError && (code === undefined || err.code === code);
}

/** The stable code of any error the agent meets: agent and bundle codes as they are, others `INTERNAL`. */
export function errorCode(err: unknown): string {
  if (isAgentError(err) || isBundleError(err)) return err.code;
  return 'INTERNAL';
}

/** `CODE: message`, the one-line reason written into status events and `lastError`, capped at 2000 chars. */
export function describeError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return `${errorCode(err)}: ${message}`.slice(0, 2000);
}
