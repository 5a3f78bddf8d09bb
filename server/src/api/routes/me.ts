// GET /me: who the caller's token says they are, so a client (the console) can offer only what the role allows.
import { z } from '@hono/zod-openapi';
import { route, routeApp } from '../route.ts';
import { respond } from '../schemas/respond.ts';

const Me = z
  .object({
    id: z.string().openapi({ description: 'Token id' }),
    name: z.string(),
    role: z.enum(['viewer', 'operator', 'admin']),
  })
  .openapi('Me');

export function meRoutes() {
  return routeApp([]).openapi(
    route('get', '/me', 'The caller: token id, name and role (viewer, operator or admin)', {}, respond(200, 'the caller', Me)),
    (c) => {
      const { id, name, role } = c.get('actor');
      return c.json({ id, name, role }, 200);
    },
  );
}
