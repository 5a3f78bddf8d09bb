// Response schemas of events (the CloudEvents envelope, pages of the log) and webhooks (hooks, deliveries).
import { z } from '@hono/zod-openapi';
import { EVENT_TYPES } from '../../events/cloud-event.ts';

export const CloudEvent = z
  .object({
    specversion: z.literal('1.0'),
    id: z.string(),
    source: z.string(),
    type: z.string().openapi({ description: `flotilla.<type>; types: ${EVENT_TYPES.join(', ')}` }),
    subject: z.string(),
    time: z.string(),
    datacontenttype: z.literal('application/json'),
    sequence: z.number().int().openapi({ description: 'CloudEvents extension: the store-wide sequence number, gap-free' }),
    data: z.unknown(),
  })
  .openapi('CloudEvent');

export const EventPage = z.object({
  events: z.array(CloudEvent),
  /** Pass as `after` for the next page. */
  next: z.number().int(),
  head: z.number().int(),
});

export const Delivery = z
  .object({
    id: z.number(),
    hookId: z.string(),
    eventId: z.string(),
    sequence: z.number(),
    type: z.string(),
    attempt: z.number(),
    ok: z.boolean(),
    status: z.number().nullable(),
    error: z.string().nullable(),
    latencyMs: z.number(),
    at: z.string(),
  })
  .openapi('WebhookDelivery');

const WebhookFields = {
  id: z.string(),
  url: z.string(),
  events: z.array(z.string()),
  description: z.string(),
  enabled: z.boolean(),
  disabledReason: z.string().nullable(),
  disabledAt: z.string().nullable(),
  cursor: z.number(),
  failures: z.number(),
  createdAt: z.string(),
  createdBy: z.string(),
};

export const Webhook = z.object({ ...WebhookFields, lastDeliveries: z.array(Delivery) }).openapi('Webhook');

export const CreatedWebhook = z
  .object({
    ...WebhookFields,
    secret: z.string().openapi({ description: 'The signing secret: shown in this answer only' }),
  })
  .openapi('CreatedWebhook');
