// POST /enroll [WIRE-3.4]: a device's first start. Authenticated by a claim (Authorization: Claim fec_…),
// which works here and nowhere else; mounted before operator authentication with its own small body limit.
import { route, routeApp } from '../route.ts';
import { EnrollRequest } from '@flotilla/firmware-bundler/wire';
import { ApiError } from '../api-error.ts';
import { validationHook } from '../errors.ts';
import { limitBody, type FleetServices } from './fleet-services.ts';
import { Enrolled } from '../schemas/identity.ts';
import { respond } from '../schemas/respond.ts';

/** An enrollment body is a few hundred bytes; nothing larger is read. */
const ENROLL_BODY_LIMIT = 4096;

export function enrollRoutes(f: FleetServices) {
  const app = routeApp([], { defaultHook: validationHook });
  app.use('/enroll', limitBody(ENROLL_BODY_LIMIT));
  return app.openapi(
    route('post', '/enroll', 'Enroll a device with a claim [WIRE-3.4]. Authorization: Claim <claim>. Body: serial, Ed25519 public key, timestamp, proof.',
      { body: EnrollRequest }, respond(201, 'the device identity and its first token', Enrolled)),
    async (c) => {
      const header = c.req.header('authorization') ?? '';
      const claim = header.startsWith('Claim ') ? header.slice(6).trim() : '';
      if (!claim) throw new ApiError(401, 'UNAUTHENTICATED', 'send Authorization: Claim <claim> (the claim printed by flotilla enrollments create)');
      const r = await f.enrollments.enroll(claim, c.req.valid('json'));
      return c.json({ v: 1 as const, ...r }, 201);
    },
  );
}
