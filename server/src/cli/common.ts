// Options shared by the commands that talk to a server, and the action wrapper that maps errors to exit codes.
import type { Command } from 'commander';
import { ApiClient } from './api-client.ts';
import { typedApi } from './typed-api.ts';

export interface ServerOpts {
  server?: string;
  token?: string;
  json?: boolean;
}

/** Adds --server, --token and --json to a command that acts on the server. */
export function serverOptions(cmd: Command): Command {
  return cmd
    .option('--server <url>', 'Flotilla server URL (env FLOTILLA_SERVER)', undefined)
    .option('--token <token>', 'operator token (env FLOTILLA_TOKEN; defaults to FLOTILLA_ADMIN_TOKEN or ./.flotilla/admin-token)')
    .option('--json', 'print one JSON object instead of text');
}

export const client = (o: ServerOpts) => new ApiClient(o);

/** The typed API client (see typed-api.ts) for a command's --server and --token. */
export const api = (o: ServerOpts) => typedApi(client(o));
