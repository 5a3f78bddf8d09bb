// Enrollment and rotation at fleet size: 10,000 devices enroll from one claim against a real server on
// loopback (each with its own Ed25519 key and proof, made beforehand as each device would), then every
// credential is rotated in one request, then every device gets an mTLS client certificate from the Flotilla
// CA for its own key. Throughput and time, as `npm run bench -- enrollment` records.
import { generateKeyPairSync, sign } from 'node:crypto';
import { loadavg } from 'node:os';
import { enrollProofMessage } from '@flotilla/firmware-bundler/wire';
import type { BenchOptions, BenchReport } from './bench-types.ts';
import { startBenchServer } from './rollout-server.ts';

/** Requests in flight at once: a factory line's worth of devices starting together. */
const CONCURRENCY = 32;

export async function run(opts: BenchOptions): Promise<BenchReport> {
  const log = opts.log ?? (() => {});
  const n = opts.quick ? 1000 : 10_000;
  const srv = await startBenchServer();
  try {
    const { claim } = await srv.api('POST', '/api/v1/enrollments', {
      name: 'bench',
      quota: n,
      expiresInSec: 3600,
      tags: ['bench'],
      serialPattern: 'B-*',
    });
    const enrollmentId = /^fec_(enr-[0-9a-f]{8})\./.exec(claim)![1]!;
    log(`making ${n} device keys`);
    const keys = Array.from({ length: n }, (_, i) => {
      const { publicKey, privateKey } = generateKeyPairSync('ed25519');
      return {
        serial: `B-${String(i).padStart(6, '0')}`,
        raw: publicKey.export({ format: 'der', type: 'spki' }).subarray(12).toString('base64'),
        privateKey,
        token: '',
      };
    });
    /** Runs `step` on every key, CONCURRENCY at a time, logging each thousand; counts the keys it refused (false) and times it all. */
    const eachKey = async (done: string, step: (k: (typeof keys)[number]) => Promise<boolean | 'skipped'>) => {
      let next = 0;
      let failed = 0;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < n) {
            const ok = await step(keys[next++]!);
            if (ok === 'skipped') continue;
            if (!ok) failed++;
            if (next % 1000 === 0) log(`  ${next} ${done}`);
          }
        }),
      );
      return { failed, sec: (performance.now() - t0) / 1000 };
    };
    log(`enrolling ${n} devices, ${CONCURRENCY} at a time`);
    const { failed, sec: enrollSec } = await eachKey('enrolled', async (k) => {
      const timestamp = Date.now();
      const proof = sign(null, enrollProofMessage(enrollmentId, k.serial, k.raw, timestamp), k.privateKey).toString('base64');
      const res = await fetch(`${srv.url}/api/v1/enroll`, {
        method: 'POST',
        headers: { authorization: `Claim ${claim}`, 'content-type': 'application/json' },
        body: JSON.stringify({ v: 1, serial: k.serial, publicKey: k.raw, timestamp, proof }),
      });
      const body = (await res.json()) as { token?: string };
      if (res.status !== 201) return false;
      k.token = body.token!;
      return true;
    });
    // The machine may be shared: its load says how much of it this run had.
    const load = loadavg()[0]!;
    const enrolled = (await srv.api('GET', '/api/v1/enrollments/bench')).used as number;
    log(`rotating ${enrolled} credentials`);
    const t1 = performance.now();
    const rotated = await srv.api('POST', '/api/v1/devices/rotate', { all: true, overlapSec: 3600 });
    const rotateSec = (performance.now() - t1) / 1000;
    // mTLS: each device asks for a certificate for its own key with its token (the previous one is still
    // inside its overlap window here), CONCURRENCY at a time; the first request also makes the CA.
    log(`issuing ${enrolled} client certificates`);
    const { failed: certFailed, sec: certSec } = await eachKey('certified', async (k) => {
      if (!k.token) return 'skipped';
      const res = await fetch(`${srv.url}/api/v1/devices/${k.serial}/certificate`, {
        method: 'POST',
        headers: { authorization: `Bearer ${k.serial}:${k.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          v: 1,
          publicKey: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(k.raw, 'base64')]).toString('base64'),
        }),
      });
      await res.arrayBuffer();
      return res.status === 201;
    });
    const figures = {
      devices: n,
      enrolled,
      failed,
      enrollSec: round(enrollSec),
      enrollPerSec: Math.round(enrolled / enrollSec),
      rotated: rotated.rotated as number,
      rotateSec: round(rotateSec),
      concurrency: CONCURRENCY,
      loadAverage: round(load),
      certified: enrolled - certFailed,
      certFailed,
      certSec: round(certSec),
      certPerSec: Math.round((enrolled - certFailed) / certSec),
    };
    const markdown = [
      `| devices | enrolled | refused | enrollment time | enrollments/s | credentials rotated | rotation time |`,
      `| ---: | ---: | ---: | ---: | ---: | ---: | ---: |`,
      `| ${n} | ${enrolled} | ${failed} | ${round(enrollSec)} s | ${figures.enrollPerSec} | ${figures.rotated} | ${round(rotateSec)} s |`,
      '',
      `| client certificates issued | refused | issuing time | certificates/s |`,
      `| ---: | ---: | ---: | ---: |`,
      `| ${figures.certified} | ${certFailed} | ${round(certSec)} s | ${figures.certPerSec} |`,
      '',
      `Load average (1 min) at the end of enrollment: ${round(load)} on this machine; server, client and key making share its cores. Each device enrolls with its own Ed25519 key: \`POST /api/v1/enroll\` with the claim and a signed proof (server: claim check, proof verification with node:crypto, one SQLite transaction against the quota), ${CONCURRENCY} requests in flight from one client process on the same machine. Rotation is one \`POST /api/v1/devices/rotate {"all":true}\`: 1,000 devices per transaction, derived tokens (HMAC) hashed into the store; here no device is connected, so no rotation message is sent (test/identity/fleet-identity.test.ts measures 1,000 connected agents reconnecting). Certificates: \`POST /api/v1/devices/{id}/certificate\` per device with its token and its Ed25519 public key, ${CONCURRENCY} in flight; the server authenticates the token, checks the key against the enrolled one and signs a 7-day X.509 certificate with the P-256 CA key (DER encoded by server/src/devices/x509.ts, ECDSA by node:crypto).`,
    ].join('\n');
    return { name: 'enrollment', figures, markdown };
  } finally {
    await srv.close();
  }
}

const round = (x: number) => Math.round(x * 100) / 100;
