// POST /enroll [WIRE-3.4]: a device's first start. Authenticated by a claim (Authorization: Claim fec_…),
// which works here and nowhere else; mounted before operator authentication with its own small body limit.
// POST /recover [WIRE-3.5]: an enrolled device whose token is refused, authenticated by its device key's proof.
import { route, routeApp } from '../route.ts';
import { EnrollRequest, RecoverRequest } from '@flotilla/firmware-bundler/wire';
import { ApiError } from '../api-error.ts';
import { validationHook } from '../errors.ts';
import { limitBody, type FleetServices } from './fleet-services.ts';
import { Enrolled, Recovered } from '../schemas/identity.ts';
import { respond } from '../schemas/respond.ts';

/** An enrollment body is a few hundred bytes; nothing larger is read. */
const ENROLL_BODY_LIMIT = 4096;

export function enrollRoutes(f: FleetServices) {
  const app = routeApp([], { defaultHook: validationHook });
  app.use('/enroll', limitBody(ENROLL_BODY_LIMIT));
  app.use('/recover', limitBody(ENROLL_BODY_LIMIT));
  return app
    .openapi(
      route(
        'post',
        '/enroll',
        'Enroll a device with a claim [WIRE-3.4]. Authorization: Claim <claim>. Body: serial, Ed25519 public key, timestamp, proof.',
        { body: EnrollRequest },
        respond(201, 'the device identity and its first token', Enrolled),
      ),
      async (c) => {
        const header = c.req.header('authorization') ?? '';
        const claim = header.startsWith('Claim ') ? header.slice(6).trim() : '';
        if (!claim)
          throw new ApiError(
            401,
            'UNAUTHENTICATED',
            'send Authorization: Claim <claim> (the claim printed by flotilla enrollments create)',
          );
        const r = await f.enrollments.enroll(claim, c.req.valid('json'));
        return c.json({ v: 1 as const, ...r }, 201);
      },
    )
    .openapi(
      route(
        'post',
        '/recover',
        'A device whose token is refused gets a fresh one by proving possession of its enrolled key [WIRE-3.5]. No Authorization header.',
        { body: RecoverRequest },
        respond(200, "the device's fresh token", Recovered),
      ),
      async (c) => c.json({ v: 1 as const, ...(await f.enrollments.recover(c.req.valid('json'))) }, 200),
    );
}
