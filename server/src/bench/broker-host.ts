// Child process that runs the embedded broker alone for the benchmark, with the bench fleet's
// credentials in memory. Prints `{"port":N}` once listening; stops on SIGTERM.
import { createHash } from 'node:crypto';
import { EmbeddedAedesBroker } from '../broker/embedded-aedes-broker.ts';
import { hashMatches } from '../broker/secret-hash.ts';
import { createLogger } from '../log/logger.ts';
import { BENCH_SERVICE, benchDeviceId, benchToken } from './broker-fleet.ts';

const devices = Number(process.env.BENCH_DEVICES ?? 10_000);
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const hashes = new Map<string, string>();
for (let i = 0; i < devices; i++) hashes.set(benchDeviceId(i), sha(benchToken(benchDeviceId(i))));

const broker = new EmbeddedAedesBroker({
  log: createLogger('warn'),
  mqttPort: 0,
  authority: {
    async authenticate(id, secret) {
      const h = hashes.get(id);
      return h && hashMatches(h, secret) ? { deviceId: id, groups: [] } : null;
    },
  },
  serviceAccounts: { [BENCH_SERVICE.username]: sha(BENCH_SERVICE.password) },
  limits: JSON.parse(process.env.BENCH_LIMITS ?? '{}'),
});
const ep = await broker.start();
process.stdout.write(`${JSON.stringify({ port: Number(new URL(ep.mqttUrl).port) })}\n`);
process.on('SIGTERM', () => {
  void broker.close().then(() => process.exit(0));
});
// On SIGUSR2, print the broker's own counters (for checking a run by hand).
process.on('SIGUSR2', () =>
  process.stderr.write(`${JSON.stringify({ stats: broker.stats(), counters: broker.counters.total(), memory: process.memoryUsage() })}\n`),
);
