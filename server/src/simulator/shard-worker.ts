// A worker process of the simulator: runs its share of the devices and reports their rows to the parent.
import { DeviceGroup, seeded } from './device-group.ts';
import type { DeviceRow, FromShard, ToShard } from './shard-protocol.ts';

const send = (m: FromShard) => process.send?.(m);

let group: DeviceGroup | null = null;
let reporter: NodeJS.Timeout | null = null;
const lastSent: string[] = [];

/** Sends the rows that changed since the last report (all of them the first time). */
function report(): void {
  if (!group) return;
  const changed: [number, DeviceRow][] = [];
  for (let i = 0; i < group.devices.length; i++) {
    const key = group.rowKey(i);
    if (lastSent[i] === key) continue;
    lastSent[i] = key;
    changed.push([i, group.row(i)]);
  }
  if (changed.length) send({ t: 'rows', rows: changed });
}

async function handle(m: ToShard): Promise<void> {
  if (m.t === 'start') {
    group = await DeviceGroup.create(m.devices, m.transforms, seeded(m.seed));
    await group.start(m.startConcurrency, (n) => send({ t: 'started', n }));
    report();
    reporter = setInterval(report, m.reportMs);
    send({ t: 'ready' });
    return;
  }
  if (!group) throw new Error(`'${m.t}' before 'start'`);
  if (m.t === 'retarget') await group.retarget(m.server, m.mqttUrl);
  else if (m.t === 'transform') group.setTransform(m.cohort, m.name);
  else if (m.t === 'quiesce') {
    await group.quiesce();
    report();
  } else if (m.t === 'close') {
    if (reporter) clearInterval(reporter);
    await group.close();
    report();
  }
  send({ t: 'done', id: m.id });
  if (m.t === 'close') process.disconnect();
}

// Ctrl-C in a terminal reaches the whole process group: the parent closes the agents, not the signal.
process.on('SIGINT', () => undefined);

process.on('message', (m: ToShard) => {
  handle(m).catch((err) => send({ t: 'failed', id: 'id' in m ? m.id : null, message: String((err as Error)?.stack ?? err) }));
});
// The parent going away (killed, crashed) ends this worker too: no orphaned agents keep a broker busy.
process.on('disconnect', () => {
  if (reporter) clearInterval(reporter);
  void (group?.close() ?? Promise.resolve()).finally(() => process.exit(0));
});
