// The BlobSource seam: fetches a blob (chunk or envelope) by SHA-256 from the server, over MQTT or HTTP.
import { AgentError } from '../errors.ts';

/**
 * Fetches blobs by digest. Transient trouble (disconnects, timeouts, BUSY) is retried inside with
 * backoff until `signal` aborts; a refusal (unknown or forbidden blob) throws AGENT_DOWNLOAD_FAILED.
 * The bytes are NOT verified here: callers check them against the digest and fetch again on mismatch.
 *
 * `maxBytes` is the size the caller knows the blob has at most (a chunk's manifest length, the
 * envelope limit): a response that claims or carries more is refused with AGENT_DOWNLOAD_FAILED
 * before it is buffered [WIRE-2.7.1], whatever `total` or Content-Length the server states.
 */
export interface BlobSource {
  fetch(digest: string, maxBytes: number, signal?: AbortSignal): Promise<Uint8Array>;
}

/** The refusal of a blob larger than the caller allows. */
export function oversizeError(digest: string, bytes: number, maxBytes: number): AgentError {
  return new AgentError(
    'AGENT_DOWNLOAD_FAILED',
    `blob ${digest} is larger than the ${maxBytes} bytes expected (server sent or claimed ${bytes})`,
  );
}
