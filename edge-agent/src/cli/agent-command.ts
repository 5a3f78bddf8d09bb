// `flotilla agent`: runs the edge agent as a daemon, optionally serving predictions on a local port.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { DEPLOY_STATES, type DeployState } from '@flotilla/firmware-bundler/wire';
import { createAgent } from '../index.ts';
import type { StepPhase } from '../update/state-machine.ts';
import { AgentError } from '../errors.ts';
import { loadOrCreateServeToken, SERVE_TOKEN_FILE } from './local-token.ts';
import { TRUSTED_KEY_FILE, trustedKeyFromServer } from './trust-on-first-use.ts';
import { startPredictServer } from './predict-server.ts';

interface AgentFlags {
  server?: string;
  deviceId: string;
  tokenFile?: string;
  claimFile?: string;
  /** Refused (see refuseSecretFlags): kept as hidden options so that passing them says what to do instead. */
  token?: string;
  claim?: string;
  data: string;
  mqttUrl?: string;
  ca?: string;
  clientCert?: boolean;
  trustedKey: string[];
  trustFingerprint?: string;
  blobTransport: 'mqtt' | 'http';
  serve?: string;
  serveHost: string;
  windowSec?: string;
  probeBudgetMs?: string;
  gpu?: string;
  offline?: boolean;
  json?: boolean;
}

/** Adds `agent` to the `flotilla` program. */
export function registerAgentCommand(program: Command): Command {
  return program
    .command('agent')
    .description(
      "Run the edge agent: follow the server's desired model, verify and install it atomically, serve predictions, send telemetry.",
    )
    .addOption(
      new Option('--device-id <id>', 'device id [A-Za-z0-9_-], up to 64 characters').env('FLOTILLA_DEVICE_ID').makeOptionMandatory(),
    )
    .requiredOption('--data <dir>', 'data folder (state, model slots, telemetry queue, the trusted key)')
    .addOption(
      new Option('--server <url>', 'server base URL; asked for the broker address unless --mqtt-url is given').env('FLOTILLA_SERVER'),
    )
    .option(
      '--token-file <file>',
      'read the device token from this file (or FLOTILLA_DEVICE_TOKEN); never --token: other users could read it in `ps`',
    )
    .addOption(
      new Option(
        '--trust-fingerprint <SHA256:hex>',
        `on first start, fetch the server's bundle key and trust it only if it has this fingerprint (printed by \`flotilla server\` and \`flotilla keys show\`); kept in <data>/${TRUSTED_KEY_FILE}`,
      ).env('FLOTILLA_TRUST_FINGERPRINT'),
    )
    .option(
      '--claim-file <file>',
      'read the factory claim from this file (or FLOTILLA_CLAIM), used when there is no token: the first start makes a key and enrolls with --device-id as serial',
    )
    .option('--mqtt-url <url>', 'broker URL, e.g. mqtt://127.0.0.1:1883 (skips asking the server)')
    .option('--ca <file>', "PEM CA the broker's TLS certificate must chain to (mqtts://, wss://); for HTTPS set NODE_EXTRA_CA_CERTS")
    .option(
      '--client-cert',
      "mTLS: get a client certificate from the server's Flotilla CA for this device's key and present it to the broker (mqtts://); the CA is pinned unless --ca is given",
    )
    .option(
      '--trusted-key <file|hex>',
      'public key file or 64-hex key trusted for bundles (repeatable; or FLOTILLA_TRUSTED_KEYS, comma-separated)',
      collect,
      [],
    )
    .addOption(new Option('--blob-transport <kind>', 'how chunks travel').choices(['mqtt', 'http']).default('mqtt'))
    .option(
      '--serve <port>',
      'serve predictions on this local port (0: any free port); feedback needs the token in <data>/serve-token (or FLOTILLA_SERVE_TOKEN)',
    )
    .option('--serve-host <host>', 'address for --serve', '127.0.0.1')
    .option('--window-sec <s>', 'telemetry window until the server sets one (default 60)')
    .option('--probe-budget-ms <ms>', 'time budget for loading and self-testing a new model (default 10000)')
    .addOption(
      new Option(
        '--gpu <provider>',
        'offer the GPU: each model is probed there and served there only if its bundle allows it, its self-tests pass and it is faster (or FLOTILLA_AGENT_GPU)',
      ).choices(['webgpu', 'none']),
    )
    .option('--offline', 'no server: serve the installed model only')
    .addOption(new Option('--token <token>').hideHelp())
    .addOption(new Option('--claim <claim>').hideHelp())
    .option('--json', 'one JSON line per event on stdout')
    .addHelpText(
      'after',
      `
Trusted keys: bundles install only when signed by a trusted key. Give the key itself (--trusted-key), or its
fingerprint (--trust-fingerprint): the agent then fetches the key from --server on first start, refuses it
unless the fingerprint matches, and keeps it in <data>/${TRUSTED_KEY_FILE} for every later start.

Secrets never go on the command line, where other users can read them (ps): the device token comes from
--token-file FILE or FLOTILLA_DEVICE_TOKEN, a factory claim from --claim-file FILE or FLOTILLA_CLAIM.

Example: FLOTILLA_SERVER=http://127.0.0.1:8080 flotilla agent --device-id cam-1 --token-file ./cam-1.token \\
  --data ./cam-1 --trust-fingerprint SHA256:... --serve 8081`,
    )
    .action((flags: AgentFlags) => runAgent(flags));
}

/** The first line of a secret file, trimmed: an error that names the flag when it cannot be read or is empty. */
function secretFile(file: string, flag: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new AgentError('AGENT_CONFIG_INVALID', `cannot read ${flag} ${file}: ${(e as Error).message}`);
  }
  const secret = text.split('\n')[0]!.trim();
  if (!secret) throw new AgentError('AGENT_CONFIG_INVALID', `${flag} ${file} is empty`);
  return secret;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Where each refused secret flag's secret goes instead. */
const SECRET_FLAGS = {
  token: ['--token', '--token-file FILE, or the environment: FLOTILLA_DEVICE_TOKEN'],
  claim: ['--claim', '--claim-file FILE, or the environment: FLOTILLA_CLAIM'],
} as const;

/**
 * Refuses a secret given on the command line (every user of the machine can read a process's arguments with
 * `ps`), before anything runs: a usage error (exit 2) that says where the secret goes instead.
 */
function refuseSecretFlags(f: AgentFlags): void {
  for (const [key, [flag, instead]] of Object.entries(SECRET_FLAGS)) {
    if (f[key as keyof typeof SECRET_FLAGS] === undefined) continue;
    throw Object.assign(
      new Error(
        `${flag} is not accepted: a secret on the command line can be read by every user of this machine (ps, /proc) and stays in shell history. Use ${instead}.`,
      ),
      { code: 'SECRET_ON_COMMAND_LINE', exit: 2 },
    );
  }
}

async function runAgent(f: AgentFlags): Promise<void> {
  refuseSecretFlags(f);
  const out = (type: string, data: Record<string, unknown>) => {
    if (f.json) process.stdout.write(`${JSON.stringify({ type, ...data })}\n`);
    else process.stderr.write(`[agent] ${type} ${JSON.stringify(data)}\n`);
  };
  const keys = [...f.trustedKey, ...(process.env.FLOTILLA_TRUSTED_KEYS?.split(',').filter(Boolean) ?? [])].map((k) =>
    existsSync(k) ? readFileSync(k, 'utf8') : k,
  );
  const kept = join(f.data, TRUSTED_KEY_FILE);
  if (f.trustFingerprint) {
    if (!f.server && !existsSync(kept))
      throw new AgentError(
        'AGENT_CONFIG_INVALID',
        '--trust-fingerprint needs --server (or FLOTILLA_SERVER) on first start, to fetch the key from',
      );
    const trust = await trustedKeyFromServer({ server: f.server ?? '', fingerprint: f.trustFingerprint, dataDir: f.data });
    out('trust', { ...trust });
    keys.push(readFileSync(trust.keyFile, 'utf8'));
  } else if (existsSync(kept)) {
    // Trusted on an earlier start: keep trusting it when the flag is left off later.
    keys.push(readFileSync(kept, 'utf8'));
  }
  if (keys.length === 0) {
    throw new AgentError(
      'AGENT_CONFIG_INVALID',
      'no trusted bundle key: pass --trust-fingerprint SHA256:... (printed by `flotilla server`, or `flotilla keys show`) or --trusted-key FILE|HEX',
    );
  }
  const agent = await createAgent({
    deviceId: f.deviceId,
    token: f.tokenFile ? secretFile(f.tokenFile, '--token-file') : process.env.FLOTILLA_DEVICE_TOKEN,
    claim: f.claimFile ? secretFile(f.claimFile, '--claim-file') : process.env.FLOTILLA_CLAIM,
    server: f.server,
    mqttUrl: f.mqttUrl,
    ca: f.ca ? readFileSync(f.ca, 'utf8') : undefined,
    clientCertificate: f.clientCert === true,
    dataDir: f.data,
    trustedKeys: keys,
    blobTransport: f.blobTransport,
    offline: f.offline,
    telemetry: f.windowSec ? { windowSec: Number(f.windowSec) } : {},
    probeBudgetMs: f.probeBudgetMs ? Number(f.probeBudgetMs) : undefined,
    gpu: gpuChoice(f.gpu ?? process.env.FLOTILLA_AGENT_GPU),
    onStep: crashHook(process.env.FLOTILLA_AGENT_CRASH_AT),
    log: (line) => out('log', { line }),
  });
  agent.on('state', (s) => out('state', { ...s }));
  agent.on('model', (m) => out('model', { ...m }));
  agent.on('settled', (s) => out('settled', { ...s }));
  agent.on('connection', (c) => out('connection', { ...c }));
  agent.on('telemetry', (w) => out('telemetry', { seq: w.seq, requests: w.requests, dropped: w.dropped }));
  agent.on('rejected', (r) => out('rejected', { ...r }));
  agent.on('error', (e) => out('error', { ...e }));
  const token = f.serve !== undefined ? process.env.FLOTILLA_SERVE_TOKEN || (await loadOrCreateServeToken(f.data)) : null;
  const serve = token !== null ? await startPredictServer(agent, { port: Number(f.serve), host: f.serveHost, token }) : null;
  // The token file's place, never the token: event lines end up in logs.
  const tokenFile = serve && !process.env.FLOTILLA_SERVE_TOKEN ? join(f.data, SERVE_TOKEN_FILE) : null;
  out('ready', {
    model: agent.model,
    executionProvider: agent.executionProvider,
    state: agent.state,
    serve: serve?.url ?? null,
    serveTokenFile: tokenFile,
    pid: process.pid,
  });
  // A pending promise does not keep Node alive; an offline agent has no socket that would.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
  clearInterval(keepAlive);
  serve?.server.close();
  await agent.close();
  out('stopped', {});
}

function gpuChoice(v: string | undefined): 'webgpu' | undefined {
  if (v === undefined || v === '' || v === 'none') return undefined;
  if (v === 'webgpu') return 'webgpu';
  throw new Error(`--gpu / FLOTILLA_AGENT_GPU must be webgpu or none, got ${v}`);
}

/**
 * `FLOTILLA_AGENT_CRASH_AT=<state>:<before|after>` kills this process with SIGKILL at that step
 * boundary of the update flow: the crash tests' way to lose power at an exact point.
 */
function crashHook(spec: string | undefined): ((state: DeployState, phase: StepPhase) => void) | undefined {
  if (!spec) return undefined;
  const [state, phase] = spec.split(':');
  if (!(DEPLOY_STATES as readonly string[]).includes(state ?? '') || (phase !== 'before' && phase !== 'after')) {
    throw new Error(`FLOTILLA_AGENT_CRASH_AT must be <state>:<before|after>, got ${spec}`);
  }
  return (s, p) => {
    if (s === state && p === phase) process.kill(process.pid, 'SIGKILL');
  };
}
