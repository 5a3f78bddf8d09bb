// Response schemas of the identity routes: enrollments (claims), enrollment answers, credential rotation.
import { z } from '@hono/zod-openapi';

export const EnrollmentTemplate = z.object({
  tags: z.array(z.string()),
  groups: z.array(z.string()),
  attributes: z.record(z.string(), z.string()),
  serialPattern: z.string().nullable(),
  allowReenroll: z.boolean(),
});

export const Enrollment = z
  .object({
    id: z.string(),
    name: z.string(),
    quota: z.number(),
    used: z.number(),
    expiresAt: z.string(),
    template: EnrollmentTemplate,
    createdAt: z.string(),
    createdBy: z.string(),
    revokedAt: z.string().nullable(),
  })
  .openapi('Enrollment');

export const CreatedEnrollment = z.object({
  enrollment: Enrollment,
  claim: z.string().openapi({ description: 'Shown once: the server keeps only its hash. Devices present it to POST /enroll only.' }),
});

export const EnrollmentList = z.object({ enrollments: z.array(Enrollment) });

export const Enrolled = z.object({
  v: z.literal(1),
  deviceId: z.string(),
  token: z.string().openapi({ description: 'The device token [WIRE-1.6]; rotates [WIRE-2.11]' }),
  generation: z.number(),
  reenrolled: z.boolean(),
});

export const Recovered = z.object({
  v: z.literal(1),
  deviceId: z.string(),
  token: z.string().openapi({ description: 'The device token [WIRE-1.6], a new generation' }),
  generation: z.number(),
});

export const CaInfo = z
  .object({
    certificate: z.string().openapi({ description: 'PEM' }),
    fingerprint: z.string().openapi({ description: 'SHA256:<base64> of the DER' }),
    notAfter: z.string(),
  })
  .openapi('CaInfo');

export const IssuedCertificate = z
  .object({
    v: z.literal(1),
    certificate: z.string().openapi({ description: 'PEM, CN = device id (or the broker host)' }),
    serial: z.string(),
    notAfter: z.string(),
    ca: z.string().openapi({ description: 'The issuing CA certificate (PEM): pin it' }),
  })
  .openapi('IssuedCertificate');

export const RotationResult = z.object({ rotated: z.number(), notified: z.number(), oldValidUntil: z.string() });
