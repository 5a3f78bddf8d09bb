// Replacing FLOTILLA_ADMIN_TOKEN (issue 16, low list): a server restarted on the same data folder with a new
// admin token accepts the new one and refuses the one it replaced; tokens issued through the API stay valid.
import { afterAll, expect, it } from 'vitest';
import { startServerProcess, type ServerHandle } from '../support/server-process.ts';

let srv: ServerHandle | undefined;
afterAll(async () => srv?.dispose());

it('refuses the previous FLOTILLA_ADMIN_TOKEN once the server runs with a new one', async () => {
  const first = await startServerProcess({ token: 'flt_first_admin_token_0123456789' });
  srv = first;
  const issued = await first.api('POST', '/api/v1/tokens', { name: 'ci', role: 'viewer' });
  expect(issued.status, JSON.stringify(issued.body)).toBe(201);
  expect(await first.stop()).toBe(0);

  srv = await startServerProcess({ dataDir: first.dataDir, token: 'flt_second_admin_token_987654321', removeOnDispose: true });
  const me = (token: string) => srv!.api('GET', '/api/v1/me', undefined, token);
  expect((await me('flt_second_admin_token_987654321')).status).toBe(200);
  expect((await me('flt_first_admin_token_0123456789')).status).toBe(401);
  expect((await me(issued.body.token)).status).toBe(200);
}, 60_000);
