// Secrets never go on the command line: every user of the machine can read a process's arguments (`ps`,
// /proc/PID/cmdline) and shells keep them in their history. The flags that once took one are refused before
// anything runs, with where the secret goes instead: a file (mode 0600) or the environment.
import { readFileSync } from 'node:fs';
import { CliError, EXIT } from './exit-codes.ts';

/** Each refused flag, and where its secret goes instead. */
export const SECRET_FLAGS: Readonly<Record<string, string>> = {
  '--token': '--token-file FILE, or the environment: FLOTILLA_TOKEN (for `flotilla agent`: FLOTILLA_DEVICE_TOKEN)',
  '--admin-token': 'the environment (FLOTILLA_ADMIN_TOKEN) or the admin-token file in the data folder',
  '--claim': '--claim-file FILE, or the environment: FLOTILLA_CLAIM',
  '--secret': '--secret-file FILE (or leave it out: a secret is generated and printed once)',
  '--mqtt-admin-password': '--mqtt-admin-password-file FILE, or the environment: FLOTILLA_MQTT_ADMIN_PASSWORD',
  '--password': 'a file or the environment variable the command names in --help',
};

/** Flags that take a URL, and where a password in it goes instead. */
const URL_FLAGS: Readonly<Record<string, string>> = {
  '--mqtt-url':
    'give the URL without it and the password with --mqtt-admin-password-file FILE (or FLOTILLA_MQTT_ADMIN_PASSWORD), or put the whole URL in FLOTILLA_MQTT_URL',
  '--store': 'give the URL without it and set PGPASSWORD, or put the whole URL in FLOTILLA_STORE',
};

/** One line for --help texts. */
export const SECRETS_HELP =
  'Secrets (tokens, claims, passwords) are never taken on the command line, where other users can read them (ps):\n' +
  'give a file (--token-file FILE, ...) or an environment variable.';

/**
 * Throws a usage error (exit 2) when `args` (the arguments after the program) hold a secret-bearing flag, or a
 * URL flag (`--mqtt-url`, `--store`) with a password in it; nothing is read or sent before. Arguments after `--` are left alone.
 */
export function refuseSecretFlags(args: readonly string[]): void {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') return;
    const [flag, inline] =
      a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const instead = Object.hasOwn(SECRET_FLAGS, flag) ? SECRET_FLAGS[flag] : undefined;
    if (instead) {
      throw new CliError(
        'SECRET_ON_COMMAND_LINE',
        `${flag} is not accepted: a secret on the command line can be read by every user of this machine (ps, /proc) and stays in shell history. Use ${instead}.`,
        EXIT.USAGE,
      );
    }
    const urlInstead = Object.hasOwn(URL_FLAGS, flag) ? URL_FLAGS[flag] : undefined;
    const value = inline ?? args[i + 1];
    if (urlInstead && value && hasPassword(value)) {
      throw new CliError(
        'SECRET_ON_COMMAND_LINE',
        `${flag} holds a password, which can be read by every user of this machine (ps, /proc): ${urlInstead}.`,
        EXIT.USAGE,
      );
    }
  }
}

/** The first line of a secret file (`--token-file` and the like), trimmed; a usage error naming the flag when unreadable or empty. */
export function readSecretFile(file: string, flag: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new CliError('SECRET_FILE_UNREADABLE', `cannot read ${flag} ${file}: ${(e as Error).message}`, EXIT.USAGE);
  }
  const secret = text.split('\n')[0]!.trim();
  if (!secret) throw new CliError('SECRET_FILE_UNREADABLE', `${flag} ${file} is empty`, EXIT.USAGE);
  return secret;
}

function hasPassword(url: string): boolean {
  try {
    return new URL(url).password !== '';
  } catch {
    return false;
  }
}
