// Operator-facing webhook management: validates what an admin configures (URL, filters, secret) and keeps
// the secret out of every answer but the one that created the hook.
import { randomBytes } from 'node:crypto';
import { parseFilters } from './event-filter.ts';
import type { EventLog } from './event-log.ts';
import { EventsError } from './events-error.ts';
import { MAX_SECRET_CHARS, MIN_SECRET_BYTES, newSecret, secretKey } from './webhook-signature.ts';
import type { DeliveryRecord, Webhook, WebhookStore } from './webhook-store.ts';

export interface NewWebhookInput {
  url: string;
  events: string[];
  /** Generated (`whsec_…`) when absent. */
  secret?: string;
  description?: string;
}

/** A hook with its last deliveries, as listed. */
export interface WebhookView extends Webhook {
  lastDeliveries: DeliveryRecord[];
}

const MAX_URL = 2048;
/** Hooks per server: each one is read every dispatch round and may hold a request open for the timeout. */
export const MAX_WEBHOOKS = 100;

/** Only http(s) URLs without credentials: a hook is an outgoing request the server makes on the admin's behalf. */
export function checkUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new EventsError('INVALID_WEBHOOK', `'${raw.slice(0, 100)}' is not a URL: give http(s)://host[:port]/path`);
  }
  if (raw.length > MAX_URL) throw new EventsError('INVALID_WEBHOOK', `the URL is ${raw.length} characters; at most ${MAX_URL}`);
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new EventsError('INVALID_WEBHOOK', `only http and https webhooks are allowed, not '${u.protocol}'`);
  if (u.username || u.password)
    throw new EventsError('INVALID_WEBHOOK', 'put no credentials in the URL: receivers verify the webhook-signature header instead');
  return u.toString();
}

function checkSecret(s: string): string {
  if (s.length > MAX_SECRET_CHARS)
    throw new EventsError('INVALID_WEBHOOK', `the secret is ${s.length} characters; at most ${MAX_SECRET_CHARS}`);
  if (secretKey(s).length < MIN_SECRET_BYTES)
    throw new EventsError('INVALID_WEBHOOK', `the secret must hold at least ${MIN_SECRET_BYTES} bytes; omit it to have one generated`);
  return s;
}

export class WebhookService {
  constructor(
    private readonly hooks: WebhookStore,
    private readonly log: EventLog,
    private readonly onChange: () => void = () => {},
  ) {}

  /** Creates a hook that receives events recorded from now on; the answer is the only one that carries the secret. */
  async add(input: NewWebhookInput, actor: string): Promise<Webhook & { secret: string }> {
    const url = checkUrl(input.url);
    const events = parseFilters(input.events);
    const secret = input.secret === undefined ? newSecret() : checkSecret(input.secret);
    const description = (input.description ?? '').slice(0, 500);
    const count = (await this.hooks.list()).length;
    if (count >= MAX_WEBHOOKS)
      throw new EventsError(
        'TOO_MANY_WEBHOOKS',
        `there are already ${count} webhooks (at most ${MAX_WEBHOOKS}): remove one first (flotilla webhooks remove ID)`,
      );
    const id = `wh_${randomBytes(8).toString('hex')}`;
    const hook = await this.hooks.create({
      id,
      url,
      events,
      secret,
      description,
      enabled: true,
      disabledReason: null,
      disabledAt: null,
      cursor: await this.log.head(),
      failures: 0,
      createdAt: new Date().toISOString(),
      createdBy: actor,
    });
    this.onChange();
    return { ...hook, secret };
  }

  async list(lastDeliveries = 5): Promise<WebhookView[]> {
    const hooks = await this.hooks.list();
    return Promise.all(
      hooks.map(async (h) => ({ ...h, lastDeliveries: lastDeliveries > 0 ? await this.hooks.deliveries(h.id, lastDeliveries) : [] })),
    );
  }

  async get(id: string): Promise<WebhookView> {
    const h = await this.hooks.get(id);
    if (!h) throw EventsError.notFound('webhook', id);
    const { secret: _secret, ...rest } = h;
    return { ...rest, lastDeliveries: await this.hooks.deliveries(id, 5) };
  }

  async remove(id: string): Promise<void> {
    if (!(await this.hooks.remove(id))) throw EventsError.notFound('webhook', id);
    this.onChange();
  }

  /** Enables a hook again; delivery resumes in order from the event it stopped at. */
  async enable(id: string): Promise<WebhookView> {
    if (!(await this.hooks.update(id, { enabled: true, disabledReason: null, disabledAt: null, failures: 0 })))
      throw EventsError.notFound('webhook', id);
    this.onChange();
    return this.get(id);
  }

  async disable(id: string, reason: string): Promise<WebhookView> {
    if (
      !(await this.hooks.update(id, {
        enabled: false,
        disabledReason: reason.slice(0, 500) || 'disabled by an operator',
        disabledAt: new Date().toISOString(),
      }))
    ) {
      throw EventsError.notFound('webhook', id);
    }
    this.onChange();
    return this.get(id);
  }

  async deliveries(id: string, limit = 50): Promise<DeliveryRecord[]> {
    if (!(await this.hooks.get(id))) throw EventsError.notFound('webhook', id);
    return this.hooks.deliveries(id, Math.min(Math.max(1, limit), 200));
  }
}
