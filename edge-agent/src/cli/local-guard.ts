// Who may talk to the local predict server: processes on this device, not web pages a browser here has open.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** A request the predict server refuses before reading its body: HTTP status, stable code, message. */
export class LocalRefusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The Host values a local caller sends: the loopback names with the server's port, plus the bound
 * address. Anything else is a DNS-rebinding page whose own host name resolves to us.
 */
export function allowedHosts(boundHost: string, port: number): Set<string> {
  const names = new Set(['127.0.0.1', 'localhost', '[::1]', boundHost.includes(':') ? `[${boundHost}]` : boundHost]);
  return new Set([...names].map((n) => `${n}:${port}`.toLowerCase()));
}

/**
 * Refuses a request whose Host is not one of `hosts`, and any request a browser sent on behalf of a
 * page (an Origin header, or Sec-Fetch-Site other than none): local apps send neither, and without
 * CORS headers a page may still fire a "simple" POST at us, so refusing it is what protects us.
 */
export function checkCaller(req: IncomingMessage, hosts: ReadonlySet<string>): void {
  const host = (req.headers.host ?? '').toLowerCase();
  if (!hosts.has(host))
    throw new LocalRefusal(403, 'HOST_NOT_ALLOWED', `Host ${JSON.stringify(req.headers.host ?? '')} is not this agent's local address`);
  if (req.headers.origin !== undefined)
    throw new LocalRefusal(
      403,
      'ORIGIN_NOT_ALLOWED',
      `requests from web pages (Origin ${JSON.stringify(req.headers.origin)}) are not allowed`,
    );
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'none')
    throw new LocalRefusal(403, 'ORIGIN_NOT_ALLOWED', `requests from web pages (Sec-Fetch-Site ${site}) are not allowed`);
}

/** Refuses a request without `Authorization: Bearer <token>` (compared in constant time). */
export function checkToken(req: IncomingMessage, token: string): void {
  const given = Buffer.from(/^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '');
  const want = Buffer.from(token);
  if (given.length !== want.length || !timingSafeEqual(given, want)) {
    throw new LocalRefusal(
      401,
      'TOKEN_REQUIRED',
      "feedback needs Authorization: Bearer <token> (the token is in serve-token in the agent's data folder)",
    );
  }
}
