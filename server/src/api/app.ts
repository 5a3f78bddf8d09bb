// The HTTP API: one Hono app with OpenAPI-described routes under /api/v1, health endpoints, and errors as JSON.
import { OpenAPIHono } from '@hono/zod-openapi';
import { cors } from 'hono/cors';
import type { AppEnv, AppServices } from './app-env.ts';
import { authenticate } from './auth-middleware.ts';
import { limitBodies } from './body-limits.ts';
import { docsHeaders, guardMetrics } from './public-pages.ts';
import { errorBody, handleError, validationHook } from './errors.ts';
import { datasetRoutes } from './routes/datasets.ts';
import { healthRoutes } from './routes/health.ts';
import { modelRoutes } from './routes/models.ts';
import { runRoutes } from './routes/runs.ts';
import { sweepRoutes } from './routes/sweeps.ts';
import { tokenRoutes } from './routes/tokens.ts';
import { conversionRoutes } from './routes/conversion.ts';
import { monitoringRoutes } from './routes/monitoring.ts';
import { rolloutRoutes } from './routes/rollouts.ts';
import { blobRoutes } from './routes/blobs.ts';
import { connectionRoutes } from './routes/connection.ts';
import { enrollRoutes } from './routes/enroll.ts';
import { enrollmentRoutes } from './routes/enrollments.ts';
import { bundleRoutes } from './routes/bundles.ts';
import { deviceRoutes } from './routes/devices.ts';
import { docsRoutes } from './routes/docs.ts';
import { keyAdminRoutes, keyRoutes } from './routes/keys.ts';
import { caRoutes, deviceCertificateRoutes } from './routes/certificates.ts';
import { meRoutes } from './routes/me.ts';
import { consoleRoutes } from './routes/console.ts';
import { httpMetrics, metricsRoutes } from './routes/metrics.ts';
import { retrainingRoutes } from './routes/retraining.ts';
import { eventRoutes } from './routes/events.ts';
import { trainerFileRoutes } from './routes/trainer-files.ts';

export type ApiApp = ReturnType<typeof buildApi>;

function buildApi(s: AppServices) {
  return new OpenAPIHono<AppEnv>({ defaultHook: validationHook })
    .route('/', datasetRoutes(s))
    .route('/', runRoutes(s))
    .route('/', sweepRoutes(s))
    .route('/', conversionRoutes(s))
    .route('/', monitoringRoutes({ monitoring: s.monitoring }))
    .route('/', rolloutRoutes({ engine: s.rollouts }))
    .route('/', retrainingRoutes({ retraining: s.retraining }))
    .route('/', modelRoutes(s))
    .route('/', tokenRoutes())
    .route('/', enrollmentRoutes(s.fleet))
    .route('/', deviceRoutes(s.fleet))
    .route('/', bundleRoutes(s.fleet))
    .route('/', keyRoutes(s.fleet))
    .route('/', keyAdminRoutes(s.fleet))
    .route('/', deviceCertificateRoutes(s.fleet))
    .route('/', caRoutes(s.fleet))
    .route('/', meRoutes())
    .route('/', eventRoutes(s.events));
}

/** Builds the whole HTTP app around already-opened services. */
export function createApp(s: AppServices) {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  app.onError(handleError);
  app.notFound((c) => c.json(errorBody('NOT_FOUND', `no route for ${c.req.method} ${c.req.path}`), 404));
  app.use('*', async (c, next) => {
    c.set('services', s);
    const t0 = performance.now();
    await next();
    s.log.debug('http', { method: c.req.method, path: c.req.path, status: c.res.status, ms: +(performance.now() - t0).toFixed(1) });
  });
  app.use('*', httpMetrics(s.fleet.metrics));
  app.route('/', healthRoutes(s));
  app.use('/metrics', guardMetrics());
  app.route('/', metricsRoutes(s.fleet.metrics));
  app.use('/api/docs', docsHeaders());
  app.use('/api/openapi.json', docsHeaders());
  app.route('/', docsRoutes());
  // Browser agents run on their app's origin, not the server's: the two device-credential routes answer
  // cross-origin requests. Any origin is safe here: the credential is a bearer header, never a cookie.
  const deviceCors = cors({
    origin: '*',
    allowHeaders: ['authorization', 'range', 'if-none-match', 'if-range'],
    exposeHeaders: ['etag', 'content-range', 'accept-ranges'],
    maxAge: 600,
  });
  app.use('/api/v1/blobs/*', deviceCors);
  app.use('/api/v1/devices/:id/connection', deviceCors);
  // Devices read blobs with their own credential [WIRE-3.1]: mounted before operator authentication.
  app.route('/api/v1', blobRoutes(s.fleet, s));
  app.route(
    '/api/v1',
    connectionRoutes(s.fleet, () => s.brokerEndpoints?.() ?? null),
  );
  // Public keys are public: a new agent fetches them before it has anything else, and trusts one only when its
  // fingerprint matches what the operator gave it out of band (flotilla agent --trust-fingerprint).
  app.route('/api/v1', keyRoutes(s.fleet));
  // The CA certificate is public; a device asks for its own certificate with its own credential (mTLS).
  app.route('/api/v1', deviceCertificateRoutes(s.fleet));
  // A device's first start, authenticated by its claim alone (which no other route accepts).
  app.route('/api/v1', enrollRoutes(s.fleet));
  // An outside trainer's downloads, authenticated by its job's token alone (which no other route accepts).
  app.route('/api/v1', trainerFileRoutes(s.retraining));
  app.use('/api/v1/*', authenticate);
  // After authentication: an anonymous client cannot make the server buffer even a limited body.
  app.use('/api/v1/*', limitBodies());
  const api = buildApi(s);
  app.route('/api/v1', api);
  app.doc('/api/openapi.json', {
    openapi: '3.0.3',
    info: { title: 'Flotilla API', version: '1', description: 'Datasets, training runs, sweeps, the model registry, and fleet delivery.' },
    servers: [{ url: '/api/v1' }],
  });
  app.route('/', consoleRoutes()); // last: the console answers only what nothing above did
  return app;
}
