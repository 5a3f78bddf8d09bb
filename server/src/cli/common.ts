// Options shared by the commands that talk to a server, and the action wrapper that maps errors to exit codes.
import type { Command } from 'commander';
import { ApiClient, TOKEN_SEARCH_HELP } from './api-client.ts';
import { typedApi } from './typed-api.ts';

export interface ServerOpts {
  server?: string;
  tokenFile?: string;
  json?: boolean;
}

/** Adds --server, --token-file and --json to a command that acts on the server. */
export function serverOptions(cmd: Command): Command {
  return cmd
    .option('--server <url>', 'Flotilla server URL (env FLOTILLA_SERVER)', undefined)
    .option(
      '--token-file <file>',
      'read the operator token from this file, e.g. DATA/admin-token (or env FLOTILLA_TOKEN; never --token: other users could read it in `ps`). See "Operator token" below',
    )
    .option('--json', 'print one JSON object instead of text')
    .addHelpText(
      'after',
      `\nOperator token, first found wins:\n${TOKEN_SEARCH_HELP.map((t, i) => `  ${i + 1}. ${t}`).join('\n')}\n` +
        'A server started with --data DIR keeps its admin token in DIR/admin-token: set FLOTILLA_DATA=DIR, or pass --token-file DIR/admin-token.',
    );
}

export const client = (o: ServerOpts) => new ApiClient(o);

/** The typed API client (see typed-api.ts) for a command's --server and --token-file. */
export const api = (o: ServerOpts) => typedApi(client(o));
