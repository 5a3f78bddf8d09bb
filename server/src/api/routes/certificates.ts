// The Flotilla CA over HTTP (mTLS, docs/identity.md): its certificate for anyone (GET /ca: pin it by its
// fingerprint), a device's client certificate for the device itself (Bearer <deviceId>:<token>, before
// operator authentication, like [WIRE-3.3]), and broker server certificates for operators (admin).
import { z } from '@hono/zod-openapi';
import { ApiError } from '../api-error.ts';
import { validationHook } from '../errors.ts';
import { route, routeApp } from '../route.ts';
import { respond } from '../schemas/respond.ts';
import { CaInfo, IssuedCertificate } from '../schemas/identity.ts';
import { limitBody, requireDevice, type FleetServices } from './fleet-services.ts';

const PublicKey = z
  .string()
  .min(40)
  .max(200)
  .regex(/^[A-Za-z0-9+/]+=*$/)
  .openapi({ description: 'base64 DER SubjectPublicKeyInfo of an Ed25519 or P-256 key' });

/** Routes a device (or anyone) calls before operator authentication. */
export function deviceCertificateRoutes(f: FleetServices) {
  const app = routeApp([], { defaultHook: validationHook });
  app.use('/devices/:id/certificate', limitBody(4096));
  return app
    .openapi(
      route(
        'get',
        '/ca',
        'The Flotilla CA certificate (PEM) and its fingerprint: what brokers and devices trust for mTLS',
        {},
        respond(200, 'the CA', CaInfo),
      ),
      async (c) => {
        const ca = await requireCa(f).ca();
        return c.json({ certificate: ca.certificate, fingerprint: ca.fingerprint, notAfter: ca.notAfter }, 200);
      },
    )
    .openapi(
      route(
        'post',
        '/devices/{id}/certificate',
        "A client certificate (CN = device id) for the device's own public key. Authorization: Bearer <deviceId>:<deviceToken>.",
        { params: z.object({ id: z.string() }), body: z.object({ v: z.literal(1), publicKey: PublicKey }).strict() },
        respond(201, 'the certificate and the CA', IssuedCertificate),
      ),
      async (c) => {
        const { id } = c.req.valid('param');
        await requireDevice(f, c.req.header('authorization'), id);
        return c.json({ v: 1 as const, ...(await requireCa(f).issue(id, c.req.valid('json').publicKey)) }, 201);
      },
    );
}

/** Operator routes (after authentication): server certificates for brokers. */
export function caRoutes(f: FleetServices) {
  const app = routeApp([{ role: 'admin', methods: ['POST'], paths: ['/ca/*'] }], { defaultHook: validationHook });
  return app.openapi(
    route(
      'post',
      '/ca/server-certificates',
      "A broker server certificate from the Flotilla CA for the broker's public key (e.g. Mosquitto certfile); admin",
      {
        body: z
          .object({
            hosts: z.array(z.string().min(1).max(253)).min(1).max(32),
            publicKey: PublicKey,
            validityDays: z.number().int().min(1).max(3650).optional(),
          })
          .strict(),
      },
      respond(201, 'the certificate and the CA', IssuedCertificate.omit({ v: true })),
    ),
    async (c) => {
      const b = c.req.valid('json');
      return c.json(await requireCa(f).issueServer(b.hosts, b.publicKey, b.validityDays ? b.validityDays * 86_400_000 : undefined), 201);
    },
  );
}

function requireCa(f: FleetServices) {
  if (!f.certificates) throw new ApiError(503, 'CA_UNAVAILABLE', 'this server has no Flotilla CA');
  return f.certificates;
}
