// Operator tokens (admin only): issue with a role, list, revoke.
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { issueToken, ROLES } from '../../auth/tokens.ts';
import { notFound } from '../api-error.ts';
import type { AppEnv } from '../app-env.ts';
import { requireRole } from '../auth-middleware.ts';

const TokenInfo = z.object({ id: z.string(), name: z.string(), role: z.enum(ROLES as ['viewer', 'operator', 'admin']), createdAt: z.string(), revokedAt: z.string().nullable() });

export function tokenRoutes() {
  const app = new OpenAPIHono<AppEnv>();
  app.use('/tokens', requireRole('admin'));
  app.use('/tokens/*', requireRole('admin'));
  return app
    .openapi(
      createRoute({
        method: 'post', path: '/tokens', summary: 'Issue an operator token (shown once)',
        request: { body: { content: { 'application/json': { schema: z.object({ name: z.string().min(1).max(100), role: z.enum(['viewer', 'operator', 'admin']) }) } } } },
        responses: { 201: { description: 'created', content: { 'application/json': { schema: z.object({ token: z.string(), info: TokenInfo }) } } } },
      }),
      async (c) => {
        const b = c.req.valid('json');
        const { token, info } = await issueToken(c.get('services').store.tokens, b.name, b.role);
        await c.get('services').store.audit.record({ actor: c.get('actor').id, action: 'token.issue', subject: info.id, detail: { role: b.role, name: b.name } });
        return c.json({ token, info }, 201);
      },
    )
    .openapi(
      createRoute({ method: 'get', path: '/tokens', summary: 'List tokens', responses: { 200: { description: 'tokens', content: { 'application/json': { schema: z.object({ tokens: z.array(TokenInfo) }) } } } } }),
      async (c) => c.json({ tokens: await c.get('services').store.tokens.list() }, 200),
    )
    .openapi(
      createRoute({ method: 'delete', path: '/tokens/{id}', summary: 'Revoke a token', request: { params: z.object({ id: z.string() }) }, responses: { 200: { description: 'revoked', content: { 'application/json': { schema: z.object({ revoked: z.boolean() }) } } } } }),
      async (c) => {
        const { id } = c.req.valid('param');
        if (!(await c.get('services').store.tokens.revoke(id))) throw notFound('token', id);
        await c.get('services').store.audit.record({ actor: c.get('actor').id, action: 'token.revoke', subject: id, detail: null });
        return c.json({ revoked: true }, 200);
      },
    );
}
