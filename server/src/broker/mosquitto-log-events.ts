// Connection events from Mosquitto's own log, which it publishes on $SYS/broker/log/N when
// configured with `log_dest topic` (notice level). Mosquitto 2.0 has no per-client connect event
// API for MQTT clients; its notice lines are stable across 2.0.x and are the only such source.

export const LOG_TOPIC = '$SYS/broker/log/N';

export type LogEvent =
  | { kind: 'connected'; clientId: string; username: string | null }
  | { kind: 'disconnected'; clientId: string }
  | { kind: 'refused'; clientId: string | null };

// "New client connected from 127.0.0.1:45428 as dev-a (p2, c1, k60, u'dev-a')."
const CONNECTED = /^New client connected from \S+ as (\S+) \(.*?(?:u'([^']*)')?\)\.?$/;
// "Client dev-a disconnected, not authorised." / "Client <unknown> disconnected, not authorised."
const REFUSED = /^Client (\S+) disconnected, not authori[sz]ed\.?$/;
// "Client dev-a disconnected.", "Client dev-a closed its connection.", "Client dev-a has exceeded
// timeout, disconnecting.", "Socket error on client dev-a, disconnecting.", "Client dev-a disconnected due to ..."
const DISCONNECTED =
  /^(?:Client (\S+?),? (?:disconnected|closed its connection|has exceeded timeout)|Socket error on client (\S+?), disconnecting)/;

/** Parses one log message (with or without its `1700000000: ` timestamp); null for every other line. */
export function parseLogLine(raw: string): LogEvent | null {
  const line = raw.replace(/^\d+: /, '').trim();
  let m = CONNECTED.exec(line);
  if (m) return { kind: 'connected', clientId: m[1]!, username: m[2] ?? null };
  m = REFUSED.exec(line);
  if (m) return { kind: 'refused', clientId: m[1] === '<unknown>' ? null : m[1]! };
  m = DISCONNECTED.exec(line);
  if (m) {
    const clientId = (m[1] ?? m[2])!;
    return clientId === '<unknown>' ? null : { kind: 'disconnected', clientId };
  }
  return null;
}
