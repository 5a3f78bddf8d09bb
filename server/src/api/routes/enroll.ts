// POST /enroll [WIRE-3.4]: a device's first start. Authenticated by a claim (Authorization: Claim fec_…),
// which works here and nowhere else; mounted before operator authentication with its own small body limit.
// POST /recover [WIRE-3.5]: an enrolled device whose token is refused, authenticated by its device key's proof.
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { EnrollRequest, RecoverRequest } from '@flotilla/firmware-bundler/wire';
import { ApiError } from '../api-error.ts';
import type { AppEnv } from '../app-env.ts';
import { validationHook } from '../errors.ts';
import { limitBody, type FleetServices } from './fleet-services.ts';
import { Enrolled, Recovered } from '../schemas/identity.ts';
import { jsonBody as json } from '../schemas/respond.ts';

/** An enrollment body is a few hundred bytes; nothing larger is read. */
const ENROLL_BODY_LIMIT = 4096;

export function enrollRoutes(f: FleetServices) {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  app.use('/enroll', limitBody(ENROLL_BODY_LIMIT));
  app.use('/recover', limitBody(ENROLL_BODY_LIMIT));
  return app.openapi(
    createRoute({
      method: 'post', path: '/enroll',
      summary: 'Enroll a device with a claim [WIRE-3.4]. Authorization: Claim <claim>. Body: serial, Ed25519 public key, timestamp, proof.',
      request: { body: json(EnrollRequest) },
      responses: { 201: { description: 'the device identity and its first token', ...json(Enrolled) } },
    }),
    async (c) => {
      const header = c.req.header('authorization') ?? '';
      const claim = header.startsWith('Claim ') ? header.slice(6).trim() : '';
      if (!claim) throw new ApiError(401, 'UNAUTHENTICATED', 'send Authorization: Claim <claim> (the claim printed by flotilla enrollments create)');
      const r = await f.enrollments.enroll(claim, c.req.valid('json'));
      return c.json({ v: 1 as const, ...r }, 201);
    },
  ).openapi(
    createRoute({
      method: 'post', path: '/recover',
      summary: 'A device whose token is refused gets a fresh one by proving possession of its enrolled key [WIRE-3.5]. No Authorization header.',
      request: { body: json(RecoverRequest) },
      responses: { 200: { description: 'the device\'s fresh token', ...json(Recovered) } },
    }),
    async (c) => c.json({ v: 1 as const, ...(await f.enrollments.recover(c.req.valid('json'))) }, 200),
  );
}
