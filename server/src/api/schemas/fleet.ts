// Response schemas of the fleet half: devices, bundles and desired state.
import { z } from '@hono/zod-openapi';
import { BundleRef } from '@flotilla/firmware-bundler/wire';

const Json = z.record(z.string(), z.unknown());

export const Device = z
  .object({
    id: z.string(),
    name: z.string(),
    tags: z.array(z.string()),
    groups: z.array(z.string()),
    attributes: z.record(z.string(), z.string()),
    createdAt: z.string(),
    revokedAt: z.string().nullable(),
    lastSeenAt: z.string().nullable(),
    online: z.boolean(),
    session: z.number(),
    reported: Json.nullable(),
    reportedAt: z.string().nullable(),
    modelVersion: z.string().nullable(),
    deployState: z.string().nullable(),
    desired: Json.nullable(),
    desiredRev: z.number(),
    desiredBundleId: z.string().nullable(),
  })
  .openapi('Device');

export const DeviceEvent = z.object({ id: z.number(), deviceId: z.string(), at: z.string(), kind: z.string(), detail: z.unknown() });

export const DeviceView = Device.extend({
  connected: z.boolean(),
  counters: z.record(z.string(), z.number()).openapi({ description: 'Refusal counters of the broker, by name' }),
  events: z.array(DeviceEvent),
  credential: z
    .object({
      generation: z.number(),
      issuedAt: z.string(),
      ageSec: z.number(),
      nextRotationAt: z
        .string()
        .nullable()
        .openapi({ description: 'When the scheduled rotation (server --rotate-every) makes it due; null without one' }),
      previousValidUntil: z
        .string()
        .nullable()
        .openapi({ description: 'End of an overlap window in progress: the previous token is accepted until then' }),
    })
    .nullable(),
}).openapi('DeviceView');

export const DevicePage = z.object({ devices: z.array(Device), next: z.string().nullable(), total: z.number() });

export const Provisioned = z.object({
  id: z.string(),
  token: z.string().openapi({ description: 'Shown once: the server keeps only its hash' }),
  device: Device,
});

export const ImportResult = z
  .object({
    count: z.number(),
    devices: z.array(
      z.object({ id: z.string(), token: z.string().openapi({ description: 'Shown once: the server keeps only its hash' }) }),
    ),
  })
  .openapi('DeviceImportResult');

/**
 * One line of an import streamed as NDJSON (`Accept: application/x-ndjson`): `progress` after each batch of
 * devices is committed, then one `done` (the result) or one `error` (nothing was imported).
 */
export const ImportLine = z
  .union([
    z.object({ type: z.literal('progress'), done: z.number(), total: z.number() }),
    ImportResult.extend({ type: z.literal('done') }),
    z.object({ type: z.literal('error'), status: z.number(), error: z.object({ code: z.string(), message: z.string() }) }),
  ])
  .openapi('DeviceImportLine');

export const DesiredState = z.object({ desired: Json.nullable(), desiredRev: z.number() });

export const SetDesiredResult = z.object({
  updated: z.array(z.string()),
  skipped: z.array(z.string()).openapi({ description: 'Unknown or revoked ids (nothing was done for them)' }),
  bundle: BundleRef.nullable(),
});

export const Bundle = z
  .object({
    id: z.string(),
    model: z.string(),
    modelVersion: z.number(),
    version: z.string(),
    sequence: z.number(),
    manifestDigest: z.string(),
    envelopeDigest: z.string(),
    keyId: z.string(),
    chunkDigests: z.array(z.string()),
    bytes: z.number(),
    payloadBytes: z.number(),
    artifact: z.string(),
    createdAt: z.string(),
    createdBy: z.string(),
  })
  .openapi('Bundle');

/** A bundle with its signed manifest (firmware-bundler SPEC §4), as JSON. */
export const BundleWithManifest = z.object({
  bundle: Bundle,
  manifest: z
    .record(z.string(), z.unknown())
    .openapi({ description: 'the signed manifest: model, files, signature (inputs/outputs), labels, preprocessing, selfTests, ...' }),
});
