// Enrollment by claim [WIRE-3.4]: what a device sends to get its own identity, and the exact bytes its
// proof of possession signs. Shared by the agent (which signs) and the server (which verifies).
import { z } from 'zod';
import { DEVICE_ID } from './topics.ts';

/** A claim: `fec_`, the enrollment id, a dot, 32 base64url characters (192 bits). Only `POST /enroll` takes it. */
export const CLAIM = /^fec_(enr-[0-9a-f]{8})\.([A-Za-z0-9_-]{32})$/;

/** How far a proof's timestamp may be from the server's clock, ms. */
export const ENROLL_CLOCK_SKEW_MS = 5 * 60_000;

/** When a proof was made, ms since the epoch. */
const Timestamp = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
/** An Ed25519 signature, base64 (88 characters). */
const Ed25519Proof = z
  .string()
  .length(88)
  .regex(/^[A-Za-z0-9+/]{86}==$/, 'proof must be a base64 Ed25519 signature (88 characters)');

/** `POST /api/v1/enroll` body; every field bounded. */
export const EnrollRequest = z
  .object({
    v: z.literal(1),
    /** The device's serial, also its device id [WIRE-1.2]. */
    serial: z.string().regex(DEVICE_ID, 'serial must match [A-Za-z0-9][A-Za-z0-9_-]{0,63} (it becomes the device id)'),
    /** Raw 32-byte Ed25519 public key, base64 (44 characters). */
    publicKey: z
      .string()
      .length(44)
      .regex(/^[A-Za-z0-9+/]{43}=$/, 'publicKey must be a base64 raw Ed25519 key (44 characters)'),
    /** Milliseconds since the epoch when the proof was made. */
    timestamp: Timestamp,
    /** Ed25519 signature of {@link enrollProofMessage}, base64 (88 characters). */
    proof: Ed25519Proof,
  })
  .strict();
export type EnrollRequest = z.infer<typeof EnrollRequest>;

/** What the server answers: the device's identity and its first MQTT/HTTP token [WIRE-1.6]. */
export const EnrollResponse = z.object({
  v: z.literal(1),
  deviceId: z.string().regex(DEVICE_ID),
  token: z.string().regex(/^fdt_[A-Za-z0-9_-]{32}$/),
  generation: z.number().int().positive(),
  reenrolled: z.boolean(),
});
export type EnrollResponse = z.infer<typeof EnrollResponse>;

/**
 * The signed bytes: a context line, then the enrollment id, serial, public key and timestamp, one per
 * line. Binding the enrollment id means a proof made for one claim is worthless with another.
 */
export function enrollProofMessage(enrollmentId: string, serial: string, publicKey: string, timestamp: number): Uint8Array {
  return new TextEncoder().encode(`flotilla-enroll/v1\n${enrollmentId}\n${serial}\n${publicKey}\n${timestamp}`);
}

/**
 * `POST /api/v1/recover` body [WIRE-3.5]: an enrolled device whose token is refused (it missed its overlap
 * window) proves possession of the key it enrolled with and gets a fresh token, without its claim.
 */
export const RecoverRequest = z
  .object({
    v: z.literal(1),
    deviceId: z.string().regex(DEVICE_ID, 'deviceId must match [A-Za-z0-9][A-Za-z0-9_-]{0,63}'),
    /** Milliseconds since the epoch when the proof was made; must be newer than the device's last accepted proof. */
    timestamp: Timestamp,
    /** Ed25519 signature of {@link recoverProofMessage} by the enrolled key, base64 (88 characters). */
    proof: Ed25519Proof,
  })
  .strict();
export type RecoverRequest = z.infer<typeof RecoverRequest>;

/** What the server answers a recovery: the device's fresh token [WIRE-1.6] and its generation. */
export const RecoverResponse = z.object({
  v: z.literal(1),
  deviceId: z.string().regex(DEVICE_ID),
  token: z.string().regex(/^fdt_[A-Za-z0-9_-]{32}$/),
  generation: z.number().int().positive(),
});
export type RecoverResponse = z.infer<typeof RecoverResponse>;

/** The signed bytes of a recovery: its own context line (an enrollment proof never passes as one), the device id, the timestamp. */
export function recoverProofMessage(deviceId: string, timestamp: number): Uint8Array {
  return new TextEncoder().encode(`flotilla-recover/v1\n${deviceId}\n${timestamp}`);
}
