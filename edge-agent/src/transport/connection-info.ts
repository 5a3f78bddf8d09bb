// Asking the server where its broker is [WIRE-3.3], so an agent needs only the server URL.
import { ConnectionInfo, decodeMessage } from '@flotilla/firmware-bundler/wire';
import { AgentError } from '../errors.ts';

/** GET `{server}/api/v1/devices/{id}/connection`; throws AGENT_CREDENTIAL_REFUSED on 401, else AGENT_BOOTSTRAP_FAILED. */
export async function fetchConnectionInfo(
  server: string,
  deviceId: string,
  token: string,
  fetchImpl: typeof fetch = fetch,
): Promise<ConnectionInfo> {
  const url = `${server.replace(/\/+$/, '')}/api/v1/devices/${encodeURIComponent(deviceId)}/connection`;
  let res: Response;
  try {
    res = await fetchImpl(url, { headers: { authorization: `Bearer ${deviceId}:${token}` } });
  } catch (err) {
    throw new AgentError('AGENT_BOOTSTRAP_FAILED', `cannot reach ${url}: ${(err as Error)?.message ?? err}`, { cause: err });
  }
  const text = await res.text();
  if (res.status === 401) throw new AgentError('AGENT_CREDENTIAL_REFUSED', `${url} refused the device token (HTTP 401)`);
  if (!res.ok) throw new AgentError('AGENT_BOOTSTRAP_FAILED', `${url} answered HTTP ${res.status}`);
  const info = decodeMessage(ConnectionInfo, text);
  if (!info) throw new AgentError('AGENT_BOOTSTRAP_FAILED', `${url} did not return connection info [WIRE-3.3]`);
  return info;
}
