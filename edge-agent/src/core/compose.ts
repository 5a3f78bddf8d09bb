// The agent's composition, the one place its parts are built and wired: the Node and browser entries'
// shared option handling (validation, trusted keys, link and blob source), then, on the storage and
// runtime the entry chose, the model host, telemetry, reporter, update gate, state machine, update engine
// and shadow runner, wired to each other and to the server link and handed to the Agent that serves with them.
import { decodePublicKeyFile, sha256Hex, trustedKeys as indexKeys, type Sha256Hex, type TrustedKeys } from '@flotilla/firmware-bundler';
import { Ack, decodeMessage, DEFAULT_PREFIX, DesiredState, DEVICE_ID, type ReportedState } from '@flotilla/firmware-bundler/wire';
import { AgentError, describeError, errorCode } from '../errors.ts';
import { readJson, writeJson, type AgentStorage } from '../storage/agent-storage.ts';
import type { BackoffOptions } from '../transport/backoff.ts';
import type { BlobSource } from '../transport/blob-source.ts';
import { fetchConnectionInfo } from '../transport/connection-info.ts';
import { HttpBlobSource } from '../transport/http-blob-source.ts';
import { MqttBlobSource } from '../transport/mqtt-blob-source.ts';
import { MqttLink } from '../transport/mqtt-link.ts';
import type { ServerLink } from '../transport/server-link.ts';
import { effectiveToken, keepCredentials } from '../identity/credential-keeper.ts';
import { credentialRecovery } from '../identity/credential-recovery.ts';
import { CertificateKeeper } from '../identity/certificate-keeper.ts';
import { enrollWithClaim } from '../identity/enroll.ts';
import { keepTrust, loadTrust } from '../identity/trust-keeper.ts';
import { ModelHost } from '../model/model-host.ts';
import { loadShadow } from '../shadow/shadow-loader.ts';
import { ShadowRunner } from '../shadow/shadow-runner.ts';
import { TelemetryService } from '../telemetry/telemetry-service.ts';
import { ChunkStore } from '../update/chunk-store.ts';
import { failureJudge } from '../update/retry-policy.ts';
import { otherSlot, readPointer, servingSlot, tryReadSlot, writePointer } from '../update/slots.ts';
import { StateMachine } from '../update/state-machine.ts';
import { createSteps } from '../update/steps.ts';
import { UpdateEngine } from '../update/update-engine.ts';
import { UpdateGate } from '../update/update-gate.ts';
import { loadRecord, type UpdateRecord } from '../update/update-record.ts';
import { AGENT_VERSION } from '../version.ts';
import type { AgentCoreOptions, AgentEvents } from './agent-options.ts';
import { Agent } from './agent.ts';
import { Emitter } from './events.ts';
import { Reporter } from './reporter.ts';
import { UpdateReport } from './update-report.ts';

const DESIRED_KEY = 'state/desired.json';
const SESSION_KEY = 'state/session.json';

/** Options both entries share (each adds its storage and runtime choices). */
export interface CommonAgentOptions extends Pick<
  AgentCoreOptions,
  'telemetry' | 'accelerator' | 'probeBudgetMs' | 'maxResumes' | 'onStep' | 'now' | 'log' | 'updateCheckMs' | 'updateRetry'
> {
  /** Device id [WIRE-1.2]. */
  deviceId: string;
  /** Device token: MQTT password [WIRE-1.6] and HTTP bearer [WIRE-3.1]. */
  token?: string;
  /**
   * A factory claim [WIRE-3.4], used when no token is given: on first start the agent makes its own key,
   * enrolls with `deviceId` as its serial and stores the identity it gets; later starts use that.
   */
  claim?: string;
  /** Server base URL (`http://host:port`): asked for the broker address [WIRE-3.3], serves HTTP blobs. */
  server?: string;
  /** Broker URL; when given the server is not asked. `mqtt://` in Node, `ws://…/mqtt` in browsers. */
  mqttUrl?: string;
  /** Public keys this device trusts: raw 32-byte keys, 64-character hex, or public key file text. */
  trustedKeys: readonly (Uint8Array | string)[];
  /** Topic prefix [WIRE-1.1]. Default `flotilla/v1` (or what the server says). */
  prefix?: string;
  /** How chunks travel: over MQTT [WIRE-2.7] (default) or HTTP [WIRE-3.1]. */
  blobTransport?: 'mqtt' | 'http';
  /** Run without a server: serve and accept `agent.install` only. Default false. */
  offline?: boolean;
  /** Reconnect delays. Default 1 s doubling to 60 s, with jitter. */
  backoff?: BackoffOptions;
  /** PEM CA the broker's TLS certificate must chain to (Node; HTTPS to the server uses NODE_EXTRA_CA_CERTS). */
  ca?: string | Uint8Array;
  /**
   * mTLS (Node): get a client certificate from the server's Flotilla CA for the device key and present it
   * to the broker (an `mqtts://` URL); the CA is pinned unless `ca` is given. Renewed with each rotation.
   */
  clientCertificate?: boolean;
}

/** Validates the options, builds link and blob source, and starts the core on `storage` and `runtime`. */
export async function startWith(
  o: CommonAgentOptions,
  parts: Pick<AgentCoreOptions, 'storage' | 'runtime' | 'hash'>,
  brokerField: 'mqtt' | 'ws',
): Promise<Agent> {
  if (!DEVICE_ID.test(o.deviceId))
    throw new AgentError('AGENT_CONFIG_INVALID', `device id ${JSON.stringify(o.deviceId)} must match ${DEVICE_ID} [WIRE-1.2]`);
  const keys = parseTrustedKeys(o.trustedKeys) as Map<string, Uint8Array>;
  const storage = parts.storage as AgentStorage;
  // A trust update accepted earlier (SPEC §6.6) replaces the provisioned keys before anything is verified.
  const trust = await loadTrust(storage, keys);
  let link: ServerLink | null = null;
  let blobSource: BlobSource | null = null;
  if (!o.offline) {
    if (!o.token && !o.claim) throw new AgentError('AGENT_CONFIG_INVALID', 'a device token or a claim is required (or offline: true)');
    if (!o.mqttUrl && !o.server) throw new AgentError('AGENT_CONFIG_INVALID', 'give a server URL or a broker URL (or offline: true)');
    if (!o.token && !o.server) throw new AgentError('AGENT_CONFIG_INVALID', 'enrolling with a claim needs the server URL');
    const configured = o.token ?? (await enrollWithClaim({ server: o.server!, claim: o.claim!, serial: o.deviceId, storage })).token;
    // The token rotates [WIRE-2.11]: everything that presents it reads `credential.token` at the time.
    const credential = { token: await effectiveToken(storage, configured) };
    const certificates = o.clientCertificate ? await startCertificates(o, storage, () => credential.token) : null;
    const useToken = (token: string) => {
      credential.token = token;
      mqttLink.useToken(token);
      // A rotation renews the certificate too; the old one serves until the new one is used at the next connect.
      void certificates?.renew();
    };
    // A refused token (offline past its overlap window) is recovered with the device key [WIRE-3.5].
    const recovery = credentialRecovery({ server: o.server, deviceId: o.deviceId, storage, configured, apply: useToken, log: o.log });
    const url =
      o.mqttUrl ??
      (async () => {
        const ask = () => fetchConnectionInfo(o.server!, o.deviceId, credential.token);
        const info = await ask().catch(async (err: AgentError) => {
          if (err.code === 'AGENT_CREDENTIAL_REFUSED' && (await recovery.refused())) return ask();
          throw err;
        });
        const u = info[brokerField];
        if (!u)
          throw new AgentError('AGENT_BOOTSTRAP_FAILED', `the server offers no ${brokerField === 'ws' ? 'WebSocket' : 'TCP'} broker URL`);
        return { url: u, prefix: info.prefix };
      });
    const mqttLink = new MqttLink({
      url,
      ca: o.ca,
      deviceId: o.deviceId,
      token: credential.token,
      prefix: o.prefix ?? DEFAULT_PREFIX,
      backoff: o.backoff,
      log: o.log,
      nextSession: () => nextSession(storage),
      onCredentialRefused: () => void recovery.refused(),
      tlsIdentity: certificates ? () => certificates.current() : undefined,
    });
    link = mqttLink;
    keepCredentials({
      on: (fn) => mqttLink.on('credentials', fn),
      storage,
      configured,
      current: () => credential.token,
      log: o.log,
      apply: (token) => {
        recovery.rotated();
        useToken(token);
      },
    });
    // Registered before the core's own desired-state handler, so a new key is trusted before the bundle is checked.
    keepTrust({ on: (fn) => mqttLink.on('desired', fn), storage, keys, initial: trust, log: o.log });
    if (o.blobTransport === 'http') {
      if (!o.server) throw new AgentError('AGENT_CONFIG_INVALID', 'HTTP blob transport needs the server URL');
      blobSource = new HttpBlobSource({ server: o.server, deviceId: o.deviceId, token: () => credential.token });
    } else {
      blobSource = new MqttBlobSource(link);
    }
  }
  return composeAgent({ ...o, ...parts, deviceId: o.deviceId, trustedKeys: keys, link, blobSource });
}

/** The agent's client certificate (mTLS), obtained or loaded before the first connection. */
async function startCertificates(o: CommonAgentOptions, storage: AgentStorage, token: () => string): Promise<CertificateKeeper> {
  if (!o.server) throw new AgentError('AGENT_CONFIG_INVALID', 'a client certificate comes from the server: give its URL');
  const keeper = new CertificateKeeper({ server: o.server, deviceId: o.deviceId, storage, token, log: o.log });
  await keeper.ensure();
  return keeper;
}

/** Indexes trusted keys by key id; throws AGENT_CONFIG_INVALID when there is none or one is not a key. */
export function parseTrustedKeys(list: readonly (Uint8Array | string)[]): TrustedKeys {
  if (!list.length) throw new AgentError('AGENT_CONFIG_INVALID', 'at least one trusted public key is required');
  try {
    return indexKeys(list.map((k) => (typeof k === 'string' ? decodePublicKeyFile(k) : k)));
  } catch (err) {
    throw new AgentError('AGENT_CONFIG_INVALID', `trusted key: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Builds the agent on `o`: serves the verified model on disk at once, resumes an interrupted update and
 * follows the saved desired state; the link and the update engine start on the next turn.
 */
export async function composeAgent(o: AgentCoreOptions): Promise<Agent> {
  const { storage, link } = o;
  const hash = o.hash ?? sha256Hex;
  const now = o.now ?? Date.now;
  const events = new Emitter<AgentEvents>();
  const closing = new AbortController();
  const chunks = new ChunkStore(storage, hash);
  // Telemetry opens once the serving model is known (it reads it): a model change before that closes no window.
  let opened: TelemetryService | null = null;
  const host = new ModelHost(
    o.runtime,
    (model, previous) => {
      events.emit('model', { model, previous });
      // Not while closing: close() closed the last window already, and the storage is going away.
      if (opened && !closing.signal.aborted) void opened.closeWindow().catch(() => undefined);
    },
    o.accelerator,
  );
  let record = await loadRecord(storage);
  await serveInstalled(o, host, events, hash, record);
  const served = host.current?.info.sequence ?? 0;
  if (served > record.highSequence) record = { ...record, highSequence: served };
  const telemetry = await TelemetryService.open(
    storage,
    link,
    () => host.current,
    o.telemetry ?? {},
    now,
    (w) => events.emit('telemetry', w),
  );
  opened = telemetry;
  const reporter = await Reporter.open(link, storage, () => reportedState(o, host, engine, updateReport, now));
  const gate = new UpdateGate(now, () => storage.freeBytes(), o.updateCheckMs);
  const updateReport = new UpdateReport(() => void reporter.flush());
  const machine = new StateMachine(
    storage,
    createSteps({
      storage,
      chunks,
      source: o.blobSource,
      host,
      trusted: o.trustedKeys,
      hash,
      agentVersion: AGENT_VERSION,
      runtime: o.runtime,
      now,
      probeBudgetMs: o.probeBudgetMs ?? 10_000,
      onChunkRejected: (digest, reason) => events.emit('rejected', { digest, reason }),
      gate,
      onProgress: (id, p) => updateReport.onProgress(id, p),
    }),
    {
      maxResumes: o.maxResumes,
      onStep: o.onStep,
      judgeFailure: failureJudge(now, o.updateRetry),
      onTransition: (t) => {
        const bundleId = t.target?.id ?? null;
        events.emit('state', { from: t.from, to: t.to, event: t.event, reason: t.reason, bundleId });
        reporter.status({
          v: 1,
          seq: t.seq,
          bundleId,
          from: t.from,
          to: t.to,
          event: t.event,
          reason: t.reason,
          at: new Date(now()).toISOString(),
          ...updateReport.statusFields(t),
        });
      },
    },
  );
  const engine = new UpdateEngine({
    machine,
    host,
    record,
    now,
    onSettled: (r) => {
      events.emit('settled', { model: host.current?.info ?? null, state: r.state, lastFailed: r.lastFailed });
      void reporter.flush();
    },
    onError: (err) => events.emit('error', { code: errorCode(err), message: describeError(err) }),
  });
  const shadow = new ShadowRunner({
    load: (ref, signal) =>
      loadShadow(
        ref,
        {
          source: o.blobSource,
          runtime: o.runtime,
          trusted: o.trustedKeys,
          hash,
          agentVersion: AGENT_VERSION,
          now,
          record: () => engine.record,
          serving: async () => tryReadSlot(storage, servingSlot(await readPointer(storage)), o.trustedKeys, hash),
          probeBudgetMs: o.probeBudgetMs ?? 10_000,
          onChunkRejected: (digest, reason) => events.emit('rejected', { digest, reason }),
        },
        signal,
      ),
    record: (model, outcome, ms) => telemetry.window.shadow.record(model, outcome, ms),
    onChange: (model, error) => {
      events.emit('shadow', { model, ...(error ? { error } : {}) });
      if (error) events.emit('error', error);
    },
  });
  let lastDesired = '';
  const applyDesired = (d: DesiredState, fresh: boolean): void => {
    const text = JSON.stringify(d);
    if (text === lastDesired) return;
    lastDesired = text;
    if (fresh) void writeJson(storage, DESIRED_KEY, d).catch(() => undefined);
    telemetry.setPolicy(d.telemetry);
    gate.setPolicy(d.update);
    engine.setDesired(d.bundle, d.retry ?? 0);
    shadow.set(d.shadow, d.shadowRate ?? 1);
  };
  const saved = await readJson<unknown>(storage, DESIRED_KEY);
  const desired = saved ? DesiredState.safeParse(saved) : null;
  if (desired?.success) applyDesired(desired.data, false);
  if (link) {
    link.on('desired', (p) => {
      const d = decodeMessage(DesiredState, p);
      if (d) applyDesired(d, true);
    });
    link.on('ack', (p) => {
      const ack = decodeMessage(Ack, p);
      if (ack) void telemetry.onAck(ack).catch(() => undefined);
    });
    link.onConnection((online) => {
      events.emit('connection', { online });
      telemetry.onConnection(online);
    });
  }
  // Started on the next turn, so listeners attached right after `await createAgent()` see every
  // state change of a resumed update and the first `settled`.
  const begun = new Promise<void>((resolve) =>
    setTimeout(() => {
      if (closing.signal.aborted) return resolve();
      link?.start();
      engine
        .start()
        .catch((err) => events.emit('error', { code: errorCode(err), message: describeError(err) }))
        .finally(resolve);
    }, 0),
  );
  return new Agent({ storage, link, hash, now, events, closing, host, chunks, telemetry, reporter, gate, engine, shadow, begun });
}

/** Serves the slot the pointer names, falling back to the other verified slot if it was damaged. */
async function serveInstalled(
  o: AgentCoreOptions,
  host: ModelHost,
  events: Emitter<AgentEvents>,
  hash: Sha256Hex,
  record: UpdateRecord,
): Promise<void> {
  const { storage } = o;
  const pointer = await readPointer(storage);
  const want = servingSlot(pointer);
  let installed = await tryReadSlot(storage, want, o.trustedKeys, hash);
  if (!installed && want && record.state === 'idle') {
    // The serving slot did not verify (disk damage): serve the other one if it does, and say so.
    installed = await tryReadSlot(storage, otherSlot(want), o.trustedKeys, hash);
    if (installed) await writePointer(storage, { current: installed.slot, fallback: null, trial: false });
    events.emit('error', {
      code: 'AGENT_SLOT_INVALID',
      message: `slot ${want} did not verify; ${installed ? `serving slot ${installed.slot}` : 'no model to serve'}`,
    });
  }
  if (!installed) return;
  try {
    host.swap(await host.load(installed));
  } catch (err) {
    events.emit('error', { code: errorCode(err), message: describeError(err) });
  }
}

/** The retained reported state [WIRE-2.3]: what serves, on which provider, and the update in flight. */
async function reportedState(
  o: AgentCoreOptions,
  host: ModelHost,
  engine: UpdateEngine,
  updateReport: UpdateReport,
  now: () => number,
): Promise<ReportedState> {
  const m = host.current;
  const r = engine.live;
  return {
    v: 1,
    agentVersion: AGENT_VERSION,
    runtime: o.runtime.name.slice(0, 64),
    ...(m?.provider && { executionProvider: m.provider.provider.slice(0, 32) }),
    state: r.state,
    model: m?.info ?? null,
    bundleId: m ? (r.history.find((h) => h.manifestDigest === m.envelopeDigest)?.id ?? null) : null,
    freeStorageBytes: await o.storage.freeBytes().catch(() => null),
    lastError: r.lastError,
    at: new Date(now()).toISOString(),
    update: updateReport.reported(r),
  };
}

/** A new presence session number, persisted so it grows across restarts [WIRE-2.6]. */
async function nextSession(storage: AgentStorage): Promise<number> {
  const cur = (await readJson<{ session: number }>(storage, SESSION_KEY))?.session ?? 0;
  await writeJson(storage, SESSION_KEY, { session: cur + 1 });
  return cur + 1;
}
