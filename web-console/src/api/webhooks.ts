// Webhooks (admin): hooks with their state and last deliveries, typed from the server's event routes.
import { hc } from 'hono/client';
import type { EventsApi } from '@flotilla/server/api';
import { API_BASE, authHeaders, unwrap } from './http.ts';
import type { WebhookAnswer, WebhookDelivery } from './types.ts';

const client = hc<EventsApi>(API_BASE, { headers: authHeaders });

export const listWebhooks = () => unwrap<{ webhooks: WebhookAnswer[] }>(client.webhooks.$get()).then((r) => r.webhooks);
export const webhookDeliveries = (id: string, limit = 20) =>
  unwrap<{ deliveries: WebhookDelivery[] }>(
    client.webhooks[':id'].deliveries.$get({ param: { id }, query: { limit: String(limit) } }),
  ).then((r) => r.deliveries);
export const enableWebhook = (id: string) => unwrap<WebhookAnswer>(client.webhooks[':id'].enable.$post({ param: { id } }));
