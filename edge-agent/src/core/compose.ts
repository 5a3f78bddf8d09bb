// Shared option handling of the Node and browser entries: validation, trusted keys, link and blob source.
import { decodePublicKeyFile, trustedKeys as indexKeys, type TrustedKeys } from '@flotilla/firmware-bundler';
import { DEFAULT_PREFIX, DEVICE_ID } from '@flotilla/firmware-bundler/wire';
import { AgentError } from '../errors.ts';
import type { AgentStorage } from '../storage/agent-storage.ts';
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
import type { AgentCoreOptions } from './agent-options.ts';
import { Agent } from './agent.ts';

/** Options both entries share (each adds its storage and runtime choices). */
export interface CommonAgentOptions extends Pick<AgentCoreOptions, 'telemetry' | 'accelerator' | 'probeBudgetMs' | 'maxResumes' | 'onStep' | 'now' | 'log' | 'updateCheckMs' | 'updateRetry'> {
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
export async function startWith(o: CommonAgentOptions, parts: Pick<AgentCoreOptions, 'storage' | 'runtime' | 'hash'>, brokerField: 'mqtt' | 'ws'): Promise<Agent> {
  if (!DEVICE_ID.test(o.deviceId)) throw new AgentError('AGENT_CONFIG_INVALID', `device id ${JSON.stringify(o.deviceId)} must match ${DEVICE_ID} [WIRE-1.2]`);
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
    const url = o.mqttUrl ?? (async () => {
      const ask = () => fetchConnectionInfo(o.server!, o.deviceId, credential.token);
      const info = await ask().catch(async (err: AgentError) => {
        if (err.code === 'AGENT_CREDENTIAL_REFUSED' && (await recovery.refused())) return ask();
        throw err;
      });
      const u = info[brokerField];
      if (!u) throw new AgentError('AGENT_BOOTSTRAP_FAILED', `the server offers no ${brokerField === 'ws' ? 'WebSocket' : 'TCP'} broker URL`);
      return { url: u, prefix: info.prefix };
    });
    const mqttLink = new MqttLink({
      url, ca: o.ca, deviceId: o.deviceId, token: credential.token, prefix: o.prefix ?? DEFAULT_PREFIX, backoff: o.backoff, log: o.log, nextSession: () => Agent.nextSession(storage),
      onCredentialRefused: () => void recovery.refused(),
      tlsIdentity: certificates ? () => certificates.current() : undefined,
    });
    link = mqttLink;
    keepCredentials({
      on: (fn) => mqttLink.on('credentials', fn), storage, configured, current: () => credential.token, log: o.log,
      apply: useToken,
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
  return Agent.start({ ...o, ...parts, deviceId: o.deviceId, trustedKeys: keys, link, blobSource });
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
