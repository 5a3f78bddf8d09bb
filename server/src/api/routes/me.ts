// GET /me: who the caller's token says they are, so a client (the console) can offer only what the role allows.
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { AppEnv } from '../app-env.ts';

const Me = z.object({
  id: z.string().openapi({ description: 'Token id' }),
  name: z.string(),
  role: z.enum(['viewer', 'operator', 'admin']),
}).openapi('Me');

export function meRoutes() {
  return new OpenAPIHono<AppEnv>().openapi(
    createRoute({
      method: 'get', path: '/me', summary: 'The caller: token id, name and role (viewer, operator or admin)',
      responses: { 200: { description: 'the caller', content: { 'application/json': { schema: Me } } } },
    }),
    (c) => {
      const { id, name, role } = c.get('actor');
      return c.json({ id, name, role }, 200);
    },
  );
}
