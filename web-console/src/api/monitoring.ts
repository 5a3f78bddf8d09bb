// Monitoring: metric series, live drift per stream, and drift alerts.
import { monitoringClient as c } from './client.ts';
import { query, request, unwrap } from './http.ts';
import type { Alert, DriftConfig, Metric, Series, StreamStatus } from './types.ts';

export interface SeriesQuery {
  scope?: 'fleet' | 'cohort' | 'device';
  id?: string;
  model?: string;
  metrics?: Metric[];
  /** Milliseconds since the epoch. */
  from?: number;
  to?: number;
  bucket?: 'minute' | 'hour' | 'day';
}

export const getSeries = (q: SeriesQuery) =>
  request<{ scope: string; id: string; bucket: string; from: string; to: string; series: Series[] }>(
    'GET',
    `/monitoring/series${query({ ...q, metrics: q.metrics?.join(',') })}`,
  );
export const getDrift = (q: { cohort?: string; model?: string } = {}) =>
  unwrap<{ config: DriftConfig; streams: StreamStatus[] }>(c.monitoring.drift.$get({ query: q }));
export const listAlerts = (q: { state?: 'open' | 'resolved'; cohort?: string; model?: string; limit?: number } = {}) =>
  request<{ alerts: Alert[] }>('GET', `/monitoring/alerts${query(q)}`).then((r) => r.alerts);
export const acknowledgeAlert = (id: string) => unwrap<Alert>(c.monitoring.alerts[':id'].ack.$post({ param: { id } }));
export const resolveAlert = (id: string) => unwrap<Alert>(c.monitoring.alerts[':id'].resolve.$post({ param: { id } }));
