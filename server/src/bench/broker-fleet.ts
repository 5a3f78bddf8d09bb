// The synthetic fleet both benchmark targets share: device ids, their tokens, and the service account.
import { createHash } from 'node:crypto';

export const BENCH_PREFIX = 'flotilla/v1';
/** The subscriber that receives every device's telemetry (a trusted consumer, not a device). */
export const BENCH_SERVICE = { username: 'svc-bench', password: 'svc-bench-secret' } as const;

export const benchDeviceId = (i: number): string => `bench-${String(i).padStart(5, '0')}`;
export const benchToken = (id: string): string => `tok-${id}-${createHash('sha256').update(id).digest('hex').slice(0, 16)}`;
export const telemetryTopic = (id: string): string => `${BENCH_PREFIX}/devices/${id}/telemetry`;
