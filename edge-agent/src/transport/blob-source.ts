// The BlobSource seam: fetches a blob (chunk or envelope) by SHA-256 from the server, over MQTT or HTTP.

/**
 * Fetches blobs by digest. Transient trouble (disconnects, timeouts, BUSY) is retried inside with
 * backoff until `signal` aborts; a refusal (unknown or forbidden blob) throws AGENT_DOWNLOAD_FAILED.
 * The bytes are NOT verified here: callers check them against the digest and fetch again on mismatch.
 */
export interface BlobSource {
  fetch(digest: string, signal?: AbortSignal): Promise<Uint8Array>;
}
