// The broker back ends every broker authorization suite runs against: the embedded aedes broker and
// an external Mosquitto 2 with dynamic security (`flotilla server --mqtt-url`). Where Mosquitto
// cannot behave as the embedded broker does, the difference is a named gap, documented in
// docs/external-broker.md, never a silently weaker assertion.
import { mosquittoMissing } from '../support/tools.ts';
import { mosquittoDynsecMissing, startMosquitto, type MosquittoBroker } from '../support/mosquitto.ts';
import { startServerProcess, type ServerHandle, type StartOptions } from '../support/server-process.ts';

export interface BrokerBackend {
  name: 'embedded' | 'mosquitto';
  /** A skip reason when the back end's tools are missing (a failure under FLOTILLA_REQUIRE_TOOLS=1). */
  missing: () => string | null;
  /** Starts a server on this back end; `dispose()` also stops the external broker. */
  start(o?: StartOptions): Promise<ServerHandle & { broker: MosquittoBroker | null }>;
  /** How mosquitto_sub words the CONNACK for a wrong token and for a borrowed client id [WIRE-1.6] (Mosquitto answers 5, not authorised, for both). */
  refusal: { credential: RegExp; clientId: RegExp };
  /** Gaps of an external broker, each in docs/external-broker.md. */
  gaps: {
    /** Mosquitto accepts CleanSession 0 (it cannot be refused per client). */
    persistentSessionsAccepted: boolean;
    /** Mosquitto drops a refused publish without closing the connection or telling the server. */
    refusalsUncounted: boolean;
  };
}

export const embedded: BrokerBackend = {
  name: 'embedded',
  missing: mosquittoMissing,
  start: async (o) => Object.assign(await startServerProcess(o), { broker: null }),
  refusal: { credential: /bad user name or password/i, clientId: /identifier rejected/i },
  gaps: { persistentSessionsAccepted: false, refusalsUncounted: false },
};

export const mosquitto: BrokerBackend = {
  name: 'mosquitto',
  missing: () => mosquittoMissing() ?? mosquittoDynsecMissing(),
  async start(o = {}) {
    const broker = await startMosquitto();
    try {
      // The admin URL holds a password: the environment, never the command line (`ps` shows it).
      const srv = await startServerProcess({ ...o, env: { ...o.env, FLOTILLA_MQTT_URL: broker.adminUrl } });
      const dispose = srv.dispose.bind(srv);
      return Object.assign(srv, {
        broker,
        async dispose() {
          await dispose();
          await broker.stop();
        },
      });
    } catch (err) {
      await broker.stop();
      throw new Error(`${(err as Error).message}\nmosquitto log:\n${broker.logs().slice(-4000)}`);
    }
  },
  refusal: { credential: /not authori[sz]ed/i, clientId: /not authori[sz]ed/i },
  gaps: { persistentSessionsAccepted: true, refusalsUncounted: true },
};

export const BACKENDS = [embedded, mosquitto];
