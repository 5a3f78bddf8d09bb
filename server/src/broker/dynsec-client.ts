// Mosquitto's dynamic-security control API ($CONTROL/dynamic-security/v1) as request/response calls
// over the server's own MQTT connection.
import type { MqttClient } from 'mqtt';

export const DYNSEC_TOPIC = '$CONTROL/dynamic-security/v1';
const RESPONSE_TOPIC = `${DYNSEC_TOPIC}/response`;

/** One command of the control API, e.g. `{ command: 'createClient', username, password }`. */
export interface DynsecCommand {
  command: string;
  [field: string]: unknown;
}

export interface DynsecResponse {
  command: string;
  /** Set when the command failed, e.g. `Client already exists`. */
  error?: string;
  data?: Record<string, unknown>;
}

/** A failed command; `text` is the plugin's own message (tests and callers match on it). */
export class DynsecError extends Error {
  readonly code = 'DYNSEC_COMMAND_FAILED';
  constructor(
    readonly command: string,
    readonly text: string,
  ) {
    super(`mosquitto dynamic-security ${command} failed: ${text}`);
  }
}

/**
 * The plugin rewrites its whole JSON file after every changing command (about 0.35 s with 10,000
 * devices) and the broker serves no one meanwhile: small batches let device traffic through between them.
 */
export const MAX_BATCH = 20;

export class DynsecClient {
  private seq = 0;
  private readonly waiting = new Map<
    string,
    { resolve: (r: DynsecResponse[]) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }
  >();

  constructor(
    private readonly mqtt: MqttClient,
    private readonly timeoutMs = 30_000,
  ) {
    mqtt.on('message', (topic, payload) => {
      if (topic === RESPONSE_TOPIC) this.onResponse(payload);
    });
  }

  /** Subscribes to the plugin's responses; call once the connection is up. */
  async start(): Promise<void> {
    await this.mqtt.subscribeAsync(RESPONSE_TOPIC, { qos: 1 });
  }

  /**
   * Sends the commands as one control message and resolves to their responses in order. Errors are
   * returned, not thrown: reconciling treats `already exists` as success. See {@link must}.
   */
  async send(commands: DynsecCommand[]): Promise<DynsecResponse[]> {
    if (commands.length === 0) return [];
    if (commands.length > MAX_BATCH) throw new Error(`at most ${MAX_BATCH} dynamic-security commands per message`);
    const id = `flt${++this.seq}`;
    // The plugin echoes correlationData per command; the first one names the whole request.
    const tagged = commands.map((c, i) => ({ ...c, correlationData: `${id}.${i}` }));
    const done = new Promise<DynsecResponse[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(
          new Error(
            `mosquitto dynamic-security did not answer ${commands[0]!.command} in ${this.timeoutMs} ms (is the plugin loaded, and may this user publish to ${DYNSEC_TOPIC}?)`,
          ),
        );
      }, this.timeoutMs);
      this.waiting.set(id, { resolve, reject, timer });
    });
    await this.mqtt.publishAsync(DYNSEC_TOPIC, JSON.stringify({ commands: tagged }), { qos: 1 });
    return done;
  }

  /** Like {@link send}, but throws the first error not in `tolerated` (matched as a substring). */
  async must(commands: DynsecCommand[], tolerated: string[] = []): Promise<DynsecResponse[]> {
    const out = await this.send(commands);
    const bad = out.find((r) => r.error && !tolerated.some((t) => r.error!.includes(t)));
    if (bad) throw new DynsecError(bad.command, bad.error!);
    return out;
  }

  /** Fails every call still waiting (the connection is closing). */
  close(): void {
    for (const [id, w] of this.waiting) {
      clearTimeout(w.timer);
      w.reject(new Error('mosquitto connection closed'));
      this.waiting.delete(id);
    }
  }

  private onResponse(payload: Buffer): void {
    let body: { responses?: (DynsecResponse & { correlationData?: string })[] };
    try {
      body = JSON.parse(payload.toString('utf8'));
    } catch {
      return;
    }
    const responses = body.responses ?? [];
    const id = responses[0]?.correlationData?.split('.')[0];
    const w = id ? this.waiting.get(id) : undefined;
    // Another admin's answer (the response topic is shared by every control client).
    if (!w || !id) return;
    clearTimeout(w.timer);
    this.waiting.delete(id);
    w.resolve(responses.map(({ command, error, data }) => ({ command, error, data })));
  }
}
