// Typed API clients derived from the server's own route definitions (hono `hc`): paths, parameters,
// request bodies and response bodies are checked against the server's API face at compile time.
import { hc } from 'hono/client';
import type { ApiApp, MonitoringApi, RolloutApi } from '@flotilla/server/api';
import { API_BASE, authHeaders } from './http.ts';

const options = { headers: authHeaders };

/** Datasets, runs, sweeps, models, tokens, devices, bundles, keys and /me. */
export const core = hc<ApiApp>(API_BASE, options);
/** Rollouts: typed from the route module itself, so it is checked even before a server mounts it. */
export const rolloutClient = hc<RolloutApi>(API_BASE, options);
/** Monitoring: series, drift, alerts. */
export const monitoringClient = hc<MonitoringApi>(API_BASE, options);
