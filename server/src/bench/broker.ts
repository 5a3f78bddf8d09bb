// `npm run bench -- broker`: the embedded broker next to Debian's mosquitto under the same load, in
// the same run: idle devices and memory per device, QoS 1 capacity, latency, and delivery at 2× load.
// Three targets: `flotilla` (embedded aedes), `external` (Mosquitto 2 with dynamic security, as
// `flotilla server --mqtt-url` drives it) and `mosquitto` (plain password and ACL files, a reference).
import { type ChildProcess, fork, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchOptions, BenchReport } from './bench-types.ts';
import { BENCH_PREFIX, BENCH_SERVICE, benchDeviceId, benchToken } from './broker-fleet.ts';
import { dynsecSeed } from '../broker/dynsec-seed.ts';
import type { IdleResult, LoadgenCommand, PubResult, SubResult } from './broker-loadgen.ts';
import { freePort } from '../net/free-port.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const MOSQUITTO = '/usr/sbin/mosquitto';

interface Target {
  name: 'flotilla' | 'external' | 'mosquitto';
  pid: number;
  port: number;
  stop(): Promise<void>;
}

/** One measured step: both sides of the load generator and the broker's CPU over the window. */
export interface StepResult extends PubResult, SubResult {
  rate: number;
  seconds: number;
  /** Accepted but not delivered within the grace period (30 s). */
  lost: number;
  acceptedPerSec: number;
  /** Deliveries that arrived during the window: the delivered throughput. */
  deliveredPerSec: number;
  /** Broker process CPU over the window, percent of one core. */
  brokerCpuPct: number;
  brokerRssMB: number;
}

interface TargetFigures {
  idle: IdleResult;
  rssBeforeMB: number;
  rssIdleMB: number;
  kbPerDevice: number;
  /** The highest ramp step that was delivered whole, on time. */
  capacity: StepResult;
  ramp: StepResult[];
  latency: StepResult;
  overload: StepResult;
}

/** Sizes of each phase; `quick` shrinks them for a look in under a minute. */
function plan(quick: boolean) {
  return {
    idleDevices: quick ? 1000 : 10_000,
    publishers: quick ? 100 : 1000,
    stepMs: quick ? 1500 : 3000,
    durationMs: quick ? 3000 : 8000,
    payloadBytes: 128,
    /** First ramp rate (msg/s) and the factor between steps. */
    rampStart: 2000,
    rampFactor: 1.25,
  };
}

const nowAbs = () => performance.timeOrigin + performance.now();

export async function run(opts: BenchOptions): Promise<BenchReport> {
  const log = opts.log ?? (() => undefined);
  const p = plan(opts.quick ?? false);
  const spawnGen = () =>
    fork(join(HERE, 'broker-loadgen.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const pubgen = spawnGen();
  const subgen = spawnGen();
  const results: Partial<Record<Target['name'], TargetFigures>> = {};
  const haveMosquitto = spawnSync(MOSQUITTO, ['-h']).error === undefined;
  try {
    const only = process.env.FLOTILLA_BENCH_BROKER_ONLY;
    for (const name of (['flotilla', 'external', 'mosquitto'] as const).filter((n) => !only || n === only)) {
      if (name !== 'flotilla' && (!haveMosquitto || (name === 'external' && !DYNSEC))) {
        log(
          `mosquitto${name === 'external' ? ' with its dynamic-security plugin' : ''} is not installed (apt-get install mosquitto): skipping ${name}`,
        );
        continue;
      }
      const target = name === 'flotilla' ? await startFlotilla(p.idleDevices) : await startMosquitto(p.idleDevices, name === 'external');
      try {
        await sleep(1000);
        const rssBeforeMB = rssMB(target.pid);
        log(`${name}: connecting ${p.idleDevices} idle devices`);
        const idle = await request<IdleResult>(pubgen, { type: 'idle', port: target.port, count: p.idleDevices });
        await sleep(2000);
        const rssIdleMB = rssMB(target.pid);
        await request(pubgen, { type: 'closeIdle' });
        await sleep(1500);
        await request(subgen, { type: 'setup', role: 'sub', port: target.port, publishers: p.publishers, payloadBytes: p.payloadBytes });
        await request(pubgen, { type: 'setup', role: 'pub', port: target.port, publishers: p.publishers, payloadBytes: p.payloadBytes });
        const step = (rate: number, durationMs: number) => measure(target.pid, pubgen, subgen, rate, durationMs);
        await step(p.rampStart, p.stepMs); // warm-up, not counted
        // Capacity: raise the offered rate until a step is not delivered whole and on time.
        const ramp: StepResult[] = [];
        for (let rate = p.rampStart, retried = false; ramp.length < 24;) {
          const r = await step(rate, p.stepMs);
          ramp.push(r);
          log(
            `${name}: offered ${rate} msg/s: delivered ${Math.round(r.deliveredPerSec)}/s, lost ${r.lost}, p99 ${Number(r.p99Ms ?? NaN).toFixed(1)} ms, broker CPU ${r.brokerCpuPct}%`,
          );
          if (sustained(r)) {
            rate = Math.round(rate * p.rampFactor);
            retried = false;
          } else if (!retried)
            retried = true; // one more try at the same rate: the machine is shared and noisy
          else break;
        }
        const passed = ramp.filter(sustained);
        const capacity = passed[passed.length - 1] ?? ramp[0]!;
        const cap = Math.max(1, capacity.deliveredPerSec);
        log(`${name}: sustainable ${Math.round(cap)} msg/s; latency at half of it`);
        const latency = await step(Math.round(cap / 2), p.durationMs);
        log(`${name}: offering twice that (${Math.round(cap * 2)} msg/s)`);
        const overload = await step(Math.round(cap * 2), p.durationMs);
        log(
          `${name}: at 2x: sent ${Math.round(overload.sent / overload.seconds)}/s (the rest pushed back), accepted ${Math.round(overload.acceptedPerSec)}/s, delivered ${Math.round(overload.deliveredPerSec)}/s, lost ${overload.lost}, broker CPU ${overload.brokerCpuPct}%, RSS ${overload.brokerRssMB} MB`,
        );
        await request(pubgen, { type: 'teardown' });
        await request(subgen, { type: 'teardown' });
        results[name] = {
          idle,
          rssBeforeMB,
          rssIdleMB,
          kbPerDevice: ((rssIdleMB - rssBeforeMB) * 1024) / Math.max(1, idle.connected),
          capacity,
          ramp,
          latency,
          overload,
        };
      } finally {
        await target.stop();
      }
    }
  } finally {
    pubgen.kill();
    subgen.kill();
  }
  return report(results, p);
}

/** Runs one open-loop step on both generators and samples the broker's CPU over its window. */
async function measure(pid: number, pubgen: ChildProcess, subgen: ChildProcess, rate: number, durationMs: number): Promise<StepResult> {
  const rampFrom = nowAbs() + 300;
  const startAt = rampFrom + 700;
  const cmd: LoadgenCommand = { type: 'step', rate, rampFrom, startAt, durationMs };
  let cpu0 = 0;
  let cpu1 = 0;
  let rss = 0;
  const t0 = setTimeout(() => (cpu0 = cpuSeconds(pid)), startAt - nowAbs());
  const t1 = setTimeout(
    () => {
      cpu1 = cpuSeconds(pid);
      rss = rssMB(pid);
    },
    startAt + durationMs - nowAbs(),
  );
  const [pub, sub] = await Promise.all([request<PubResult>(pubgen, cmd), request<SubResult>(subgen, cmd)]);
  clearTimeout(t0);
  clearTimeout(t1);
  const seconds = durationMs / 1000;
  return {
    ...pub,
    ...sub,
    p50Ms: sub.p50Ms ?? NaN,
    p99Ms: sub.p99Ms ?? NaN,
    rate,
    seconds,
    lost: Math.max(0, pub.accepted - sub.delivered),
    acceptedPerSec: pub.accepted / seconds,
    deliveredPerSec: sub.arrivedInWindow / seconds,
    brokerCpuPct: Math.round(((cpu1 - cpu0) / seconds) * 100),
    brokerRssMB: round(rss),
  };
}

/** A step is sustained when (nearly) all it offered was delivered, nothing accepted was lost, and p99 stayed under a second. */
const sustained = (r: StepResult) => r.deliveredPerSec >= 0.95 * r.rate && r.lost === 0 && r.p99Ms < 1000;

function report(r: Partial<Record<Target['name'], TargetFigures>>, p: ReturnType<typeof plan>): BenchReport {
  const figures: BenchReport['figures'] = { idleDevicesOffered: p.idleDevices, publishers: p.publishers, payloadBytes: p.payloadBytes };
  const rows: string[][] = [];
  for (const [name, f] of Object.entries(r) as [Target['name'], TargetFigures][]) {
    const ratio = f.overload.deliveredPerSec / Math.max(1, f.capacity.deliveredPerSec);
    Object.assign(figures, {
      [`${name}IdleDevices`]: f.idle.connected,
      [`${name}RssBeforeMB`]: round(f.rssBeforeMB),
      [`${name}IdleRssMB`]: round(f.rssIdleMB),
      [`${name}KBPerDevice`]: round(f.kbPerDevice),
      [`${name}CapacityMsgPerSec`]: Math.round(f.capacity.deliveredPerSec),
      [`${name}CapacityLost`]: f.capacity.lost,
      [`${name}CapacityDuplicates`]: f.capacity.duplicates,
      [`${name}P50Ms`]: round(f.latency.p50Ms),
      [`${name}P99Ms`]: round(f.latency.p99Ms),
      [`${name}LatencyLost`]: f.latency.lost,
      [`${name}OverloadOfferedMsgPerSec`]: Math.round(f.overload.offered / f.overload.seconds),
      [`${name}OverloadSentMsgPerSec`]: Math.round(f.overload.sent / f.overload.seconds),
      [`${name}OverloadAcceptedMsgPerSec`]: Math.round(f.overload.acceptedPerSec),
      [`${name}OverloadBrokerCpuPct`]: f.overload.brokerCpuPct,
      [`${name}OverloadBrokerRssMB`]: f.overload.brokerRssMB,
      [`${name}OverloadDeliveredMsgPerSec`]: Math.round(f.overload.deliveredPerSec),
      [`${name}OverloadRatio`]: round(ratio),
      [`${name}OverloadLost`]: f.overload.lost,
      [`${name}OverloadDuplicates`]: f.overload.duplicates,
    });
    rows.push([
      name,
      `${f.idle.connected}`,
      `${round(f.rssBeforeMB)} MB`,
      `${round(f.rssIdleMB)} MB`,
      `${round(f.kbPerDevice)} KB`,
      `${Math.round(f.capacity.deliveredPerSec)}`,
      `${round(f.latency.p50Ms)} / ${round(f.latency.p99Ms)} ms`,
      `${Math.round(f.overload.deliveredPerSec)} (${Math.round(ratio * 100)}%)`,
      `${f.capacity.lost + f.latency.lost + f.overload.lost} / ${f.capacity.duplicates + f.latency.duplicates + f.overload.duplicates}`,
    ]);
  }
  const markdown = [
    '## Broker',
    '',
    `${p.idleDevices} idle devices, then ${p.publishers} devices publishing ${p.payloadBytes}-byte QoS 1 telemetry to one QoS 1 subscriber`,
    '(raw-socket load generators in two child processes, publishers and subscriber; each publisher keeps at most 20 unacknowledged',
    'messages, so a broker that delays acknowledgements pushes back; every broker authenticates each device and applies topic ACLs;',
    'both mosquitto runs use max_inflight_messages 100 and max_queued_messages 100000). `flotilla` is the embedded broker; `external`',
    'is Mosquitto 2 with its dynamic-security plugin holding one client and one role per device, exactly as `flotilla server',
    '--mqtt-url` keeps them (docs/external-broker.md), with its log on $SYS for connection events; `mosquitto` is the same broker with',
    'a plain password file and %u ACL patterns, for reference. "RSS before they connect" includes each broker\'s credentials for the',
    `fleet (for \`external\`, the plugin's ${p.idleDevices} clients and roles). Capacity is the highest offered rate delivered`,
    'whole, unlost and with p99 under 1 s (3 s steps, ×1.25); "delivered" counts arrivals during the window; "lost" is accepted but',
    'not delivered within 30 s. The machine has 2 cores shared by broker, generators and other work: figures are noisy.',
    '',
    '| broker | idle devices | RSS before they connect | RSS with them | per connection | capacity (msg/s delivered) | p50 / p99 at half capacity | delivered at 2× capacity | lost / duplicated |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows.map((row) => `| ${row.join(' | ')} |`),
    '',
  ].join('\n');
  return { name: 'broker', figures, markdown };
}

async function startFlotilla(devices: number): Promise<Target> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(HERE, 'broker-host.ts')], {
    env: { ...process.env, BENCH_DEVICES: String(devices) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await firstLine(child);
  const port = (JSON.parse(line) as { port: number }).port;
  return { name: 'flotilla', pid: child.pid!, port, stop: () => stopChild(child) };
}

async function startMosquitto(devices: number, dynsec: boolean): Promise<Target> {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-bench-mosq-'));
  const port = await freePort();
  const auth = dynsec ? dynsecFiles(dir, devices) : passwordFiles(dir, devices);
  writeFileSync(
    join(dir, 'mosquitto.conf'),
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous false',
      ...auth,
      'persistence false',
      'set_tcp_nodelay true',
      'max_connections -1',
      // Defaults are 20 in flight and 1,000 queued per client, which drop QoS 1 messages to a subscriber
      // that lags for half a second; raised so the comparison measures throughput, not queue policy.
      'max_inflight_messages 100',
      'max_queued_messages 100000',
      ...(process.getuid?.() === 0 ? ['user root'] : []),
      '',
    ].join('\n'),
  );
  const child = spawn(MOSQUITTO, ['-c', join(dir, 'mosquitto.conf')], { stdio: ['ignore', 'ignore', 'inherit'] });
  await waitForPort(port);
  return {
    name: dynsec ? 'external' : 'mosquitto',
    pid: child.pid!,
    port,
    stop: async () => {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const DYNSEC = ['/usr/lib', '/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu']
  .map((d) => join(d, 'mosquitto_dynamic_security.so'))
  .find((f) => existsSync(f));

/** The external back end: the server's dynsec clients and roles (written as a file: see dynsec-seed.ts), the service account as the server's user. */
function dynsecFiles(dir: string, devices: number): string[] {
  const fleet = Array.from({ length: devices }, (_, i) => ({
    deviceId: benchDeviceId(i),
    token: benchToken(benchDeviceId(i)),
    groups: [],
  }));
  writeFileSync(
    join(dir, 'dynamic-security.json'),
    JSON.stringify(dynsecSeed({ prefix: BENCH_PREFIX, admin: BENCH_SERVICE, devices: fleet })),
  );
  // Notice-level log on $SYS is what the server reads connections from.
  return [
    `plugin ${DYNSEC}`,
    `plugin_opt_config_file ${join(dir, 'dynamic-security.json')}`,
    'log_dest topic',
    'log_type error',
    'log_type warning',
    'log_type notice',
  ];
}

function passwordFiles(dir: string, devices: number): string[] {
  const users = [`${BENCH_SERVICE.username}:${BENCH_SERVICE.password}`];
  for (let i = 0; i < devices; i++) users.push(`${benchDeviceId(i)}:${benchToken(benchDeviceId(i))}`);
  writeFileSync(join(dir, 'passwd'), `${users.join('\n')}\n`);
  const hashed = spawnSync('/usr/bin/mosquitto_passwd', ['-U', join(dir, 'passwd')]);
  if (hashed.status !== 0) throw new Error(`mosquitto_passwd failed: ${hashed.stderr}`);
  // The same rules as the embedded broker: a device writes its own subtree, reads its own desired state.
  writeFileSync(
    join(dir, 'acl'),
    [
      `pattern write ${BENCH_PREFIX}/devices/%u/telemetry`,
      `pattern read ${BENCH_PREFIX}/devices/%u/desired`,
      `user ${BENCH_SERVICE.username}`,
      `topic read ${BENCH_PREFIX}/#`,
      '',
    ].join('\n'),
  );
  return [`password_file ${join(dir, 'passwd')}`, `acl_file ${join(dir, 'acl')}`, 'log_dest none'];
}

function request<T>(child: ChildProcess, cmd: LoadgenCommand): Promise<T> {
  return new Promise((resolve, reject) => {
    child.once('message', (m: { ok: boolean; result?: T; error?: string }) => (m.ok ? resolve(m.result as T) : reject(new Error(m.error))));
    child.send(cmd);
  });
}

/** User + system CPU seconds a process has used (from /proc, at the usual 100 ticks per second). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function rssMB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(out.slice(0, nl));
    });
    child.once('exit', (code) => reject(new Error(`broker host exited with ${code}`)));
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((r) => {
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(t);
      r();
    });
    child.kill('SIGTERM');
  });
}

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((r) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        r(true);
      });
      s.once('error', () => r(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`nothing listens on ${port}`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (x: number) => Math.round(x * 100) / 100;
