// The Signer seam: whatever holds the signing key (memory, file, HSM, cloud KMS) (SPEC §6).

/**
 * Produces Ed25519 signatures for one key. Implementations may be asynchronous (a KMS call), so
 * callers always await `sign`.
 */
export interface Signer {
  /** Key id of the public key (16 hex characters, see `keyIdOf`). */
  readonly keyId: string;
  /** The 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array;
  /** The 64-byte Ed25519 signature of `message`. */
  sign(message: Uint8Array): Uint8Array | Promise<Uint8Array>;
}
