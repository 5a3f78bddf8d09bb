// Rollouts: list, status, devices and timelines, the wizard's live preview, creation and operator actions.
import { rolloutClient as c } from './client.ts';
import { query, request, unwrap } from './http.ts';
import type {
  Rollout,
  RolloutDevice,
  RolloutDeviceDetail,
  RolloutEventRecord,
  RolloutPreview,
  RolloutRequestInput,
  RolloutState,
  RolloutStatus,
} from './types.ts';

export type RolloutAction = 'start' | 'pause' | 'resume' | 'advance' | 'abort' | 'rollback';

export const listRollouts = (q: { state?: RolloutState; model?: string; limit?: number } = {}) =>
  request<{ rollouts: Omit<Rollout, 'runtime'>[] }>('GET', `/rollouts${query(q)}`).then((r) => r.rollouts);
export const getRollout = (id: string) => unwrap<RolloutStatus>(c.rollouts[':id'].$get({ param: { id } }));
export const rolloutEvents = (id: string) =>
  unwrap<{ events: RolloutEventRecord[] }>(c.rollouts[':id'].events.$get({ param: { id } })).then((r) => r.events);
export const rolloutDevices = (id: string, q: { stage?: number; state?: string } = {}) =>
  request<{ devices: RolloutDevice[] }>('GET', `/rollouts/${encodeURIComponent(id)}/devices${query(q)}`).then((r) => r.devices);
export const rolloutDevice = (id: string, deviceId: string) =>
  unwrap<RolloutDeviceDetail>(c.rollouts[':id'].devices[':deviceId'].$get({ param: { id, deviceId } }));

/** `target` and `stages` in the CLI's shorthand (`tag=car,group=eu`; `10,50,100`). */
export const previewTarget = (target: string, stages?: string, model?: string) =>
  unwrap<RolloutPreview>(c.rollouts.preview.$get({ query: { target, stages, model } }));

export const createRollout = (body: RolloutRequestInput) => request<Rollout>('POST', '/rollouts', body);
/** Sends the failed devices of `stage` (0-based) their desired state again with a new retry nonce. */
export const retryRolloutStage = (id: string, stage: number, reason: string) =>
  unwrap<RolloutStatus & { retried: number }>(c.rollouts[':id'].retry.$post({ param: { id }, json: { stage, reason } }));
export const actOnRollout = (id: string, action: RolloutAction, reason: string) =>
  unwrap<RolloutStatus>(c.rollouts[':id'][':action'].$post({ param: { id, action }, json: { reason } }));
