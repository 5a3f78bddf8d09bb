// Typed API clients derived from the server's own route definitions (hono `hc`): paths, parameters and
// request bodies are checked against the server at compile time. Response bodies are typed by the thin
// wrappers beside this file, since most routes describe them only as JSON objects.
import { hc } from 'hono/client';
import type { ApiApp } from '../../../server/src/api/app.ts';
import type { monitoringRoutes } from '../../../server/src/api/routes/monitoring.ts';
import type { rolloutRoutes } from '../../../server/src/api/routes/rollouts.ts';
import { API_BASE, authHeaders } from './http.ts';

const options = { headers: authHeaders };

/** Datasets, runs, sweeps, models, tokens, devices, bundles, keys and /me. */
export const core = hc<ApiApp>(API_BASE, options);
/** Rollouts: typed from the route module itself, so it is checked even before a server mounts it. */
export const rolloutClient = hc<ReturnType<typeof rolloutRoutes>>(API_BASE, options);
/** Monitoring: series, drift, alerts. */
export const monitoringClient = hc<ReturnType<typeof monitoringRoutes>>(API_BASE, options);
