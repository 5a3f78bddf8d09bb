// The on-disk telemetry queue: numbering survives restarts, acks delete, a full queue drops the oldest and says so.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileStorage } from '../storage/file-storage.ts';
import { OutboxQueue } from './outbox-queue.ts';

type Msg = { seq: number; dropped: number; n: number };
const open = async (root: string, maxItems = 10) => OutboxQueue.open<Msg>(await FileStorage.open(root), 'windows', { maxItems });

describe('OutboxQueue', () => {
  it('numbers messages without reuse across reopen, and forgets acknowledged ones', async () => {
    const root = mkdtempSync(join(tmpdir(), 'outbox-'));
    let q = await open(root);
    for (let n = 0; n < 3; n++) await q.enqueue((seq, dropped) => ({ seq, dropped, n }));
    await q.ack([0, 2, 99]);
    expect(q.pending()).toEqual([1]);
    q = await open(root);
    expect(q.pending()).toEqual([1]);
    const m = await q.enqueue((seq, dropped) => ({ seq, dropped, n: 3 }));
    expect(m.seq).toBe(3);
    expect(await q.read(1)).toEqual({ seq: 1, dropped: 0, n: 1 });
  });

  it('drops the oldest when full and reports every drop exactly once, even across cascades', async () => {
    const q = await open(mkdtempSync(join(tmpdir(), 'outbox-')), 2);
    const out: Msg[] = [];
    for (let n = 0; n < 6; n++) out.push(await q.enqueue((seq, dropped) => ({ seq, dropped, n })));
    expect(q.pending()).toEqual([4, 5]);
    // Messages 0-3 were dropped; their count rode on later messages, some of which were dropped in turn.
    const alive = await Promise.all(q.pending().map((s) => q.read(s)));
    expect(alive.reduce((a, m) => a + m!.dropped, 0)).toBe(4);
    expect(out.map((m) => m.dropped)).toEqual([0, 0, 1, 1, 2, 2]);
  });

  it('recovers the next number from the messages when the counter write was lost', async () => {
    const root = mkdtempSync(join(tmpdir(), 'outbox-'));
    const storage = await FileStorage.open(root);
    const q = await OutboxQueue.open<Msg>(storage, 'windows');
    await q.enqueue((seq, dropped) => ({ seq, dropped, n: 0 }));
    await q.enqueue((seq, dropped) => ({ seq, dropped, n: 1 }));
    await storage.write('telemetry/windows/meta.json', new TextEncoder().encode('{"nextSeq":1,"carried":0}'));
    const again = await OutboxQueue.open<Msg>(storage, 'windows');
    expect((await again.enqueue((seq, dropped) => ({ seq, dropped, n: 2 }))).seq).toBe(2);
  });
});
