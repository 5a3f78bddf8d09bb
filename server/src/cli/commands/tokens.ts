// `flotilla tokens ...`: operator tokens with roles (admin only).
import type { Command } from 'commander';
import { api, serverOptions } from '../common.ts';
import { answer } from '../typed-api.ts';
import { emit, table } from '../output.ts';

export function registerTokenCommands(program: Command): void {
  const tokens = program.command('tokens').alias('token').description('Operator API tokens (viewer, operator, admin)');

  serverOptions(
    tokens
      .command('create')
      .description('Issue a token; the secret is printed once')
      .requiredOption('--name <name>', 'who or what it is for')
      .option('--role <role>', 'viewer | operator | admin', 'viewer'),
  ).action(async (o) => {
    const r = await answer(api(o).tokens.$post({ json: { name: o.name, role: o.role } }));
    emit(o, r, () => `${r.info.id} (${r.info.role}): ${r.token}\nStore it now: it is not shown again.`);
  });

  serverOptions(tokens.command('list').description('List tokens')).action(async (o) => {
    const { tokens: list } = await answer(api(o).tokens.$get());
    emit(o, { tokens: list }, () =>
      table(
        ['ID', 'NAME', 'ROLE', 'CREATED', 'REVOKED'],
        list.map((t) => [t.id, t.name, t.role, t.createdAt, t.revokedAt]),
      ),
    );
  });

  serverOptions(tokens.command('revoke <id>').description('Revoke a token')).action(async (id: string, o) => {
    const r = await answer(api(o).tokens[':id'].$delete({ param: { id } }));
    emit(o, r, () => `revoked ${id}`);
  });
}
