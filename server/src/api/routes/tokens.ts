// Operator tokens (admin only): issue with a role, list, revoke.
import { z } from '@hono/zod-openapi';
import { route, routeApp } from '../route.ts';
import { respond } from '../schemas/respond.ts';
import { issueToken, ROLES } from '../../auth/tokens.ts';
import { notFound } from '../api-error.ts';

const TokenInfo = z.object({
  id: z.string(),
  name: z.string(),
  role: z.enum(ROLES as ['viewer', 'operator', 'admin']),
  createdAt: z.string(),
  revokedAt: z.string().nullable(),
});

export function tokenRoutes() {
  return routeApp([{ role: 'admin', paths: ['/tokens', '/tokens/*'] }])
    .openapi(
      route(
        'post',
        '/tokens',
        'Issue an operator token (shown once)',
        { body: z.object({ name: z.string().min(1).max(100), role: z.enum(['viewer', 'operator', 'admin']) }) },
        respond(201, 'created', z.object({ token: z.string(), info: TokenInfo })),
      ),
      async (c) => {
        const b = c.req.valid('json');
        const { token, info } = await issueToken(c.get('services').store.tokens, b.name, b.role);
        await c.get('services').store.audit.record({
          actor: c.get('actor').id,
          action: 'token.issue',
          subject: info.id,
          detail: { role: b.role, name: b.name },
        });
        return c.json({ token, info }, 201);
      },
    )
    .openapi(route('get', '/tokens', 'List tokens', {}, respond(200, 'tokens', z.object({ tokens: z.array(TokenInfo) }))), async (c) =>
      c.json({ tokens: await c.get('services').store.tokens.list() }, 200),
    )
    .openapi(
      route(
        'delete',
        '/tokens/{id}',
        'Revoke a token',
        { params: z.object({ id: z.string() }) },
        respond(200, 'revoked', z.object({ revoked: z.boolean() })),
      ),
      async (c) => {
        const { id } = c.req.valid('param');
        if (!(await c.get('services').store.tokens.revoke(id))) throw notFound('token', id);
        await c.get('services').store.audit.record({ actor: c.get('actor').id, action: 'token.revoke', subject: id, detail: null });
        return c.json({ revoked: true }, 200);
      },
    );
}
