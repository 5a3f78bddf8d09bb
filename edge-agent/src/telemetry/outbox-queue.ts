// Messages kept on disk until the server acknowledges them [WIRE-2.5]; bounded, and what it drops is counted.
import { readJson, writeJson, type AgentStorage } from '../storage/agent-storage.ts';

/** Options of {@link OutboxQueue}. */
export interface OutboxOptions {
  /** Most messages kept; the oldest is dropped to make room. Default 1000. */
  maxItems?: number;
}

interface Meta {
  nextSeq: number;
  /** Dropped messages not yet reported in a queued message. */
  carried: number;
}

/**
 * A durable FIFO of sequence-numbered JSON messages under `telemetry/<kind>/`. A message is written
 * (atomically) before the sequence counter, so a crash between the two neither reuses a number nor
 * leaves a gap; the worst case reports a drop count twice. When full, the oldest message is dropped
 * and its count (plus any drops it was carrying) rides on the next message enqueued.
 */
export class OutboxQueue<T extends { seq: number; dropped?: number }> {
  private meta: Meta = { nextSeq: 0, carried: 0 };
  private seqs: number[] = [];

  private constructor(
    private readonly storage: AgentStorage,
    private readonly dir: string,
    private readonly o: OutboxOptions,
  ) {}

  /** Opens the queue `kind`, reading what a previous run left. */
  static async open<T extends { seq: number; dropped?: number }>(
    storage: AgentStorage,
    kind: string,
    o: OutboxOptions = {},
  ): Promise<OutboxQueue<T>> {
    const q = new OutboxQueue<T>(storage, `telemetry/${kind}`, o);
    const meta = await readJson<Meta>(storage, `${q.dir}/meta.json`);
    const seqs = (await storage.list(`${q.dir}/m-`))
      .map((k) => Number(k.slice(q.dir.length + 3, -5)))
      .filter(Number.isSafeInteger)
      .sort((a, b) => a - b);
    const top = seqs.length ? seqs[seqs.length - 1]! + 1 : 0;
    q.meta = { nextSeq: Math.max(meta?.nextSeq ?? 0, top), carried: meta?.carried ?? 0 };
    q.seqs = seqs;
    return q;
  }

  /** Messages waiting for an ack. */
  get size(): number {
    return this.seqs.length;
  }

  /** Sequence numbers waiting, oldest first. */
  pending(): readonly number[] {
    return this.seqs;
  }

  /** Builds the next message with its sequence number and the drop count to report, and stores it. */
  async enqueue(build: (seq: number, dropped: number) => T): Promise<T> {
    const max = this.o.maxItems ?? 1000;
    while (this.seqs.length >= max) {
      const oldest = this.seqs.shift()!;
      const old = await this.read(oldest);
      await this.storage.delete(this.key(oldest));
      this.meta.carried += 1 + (old?.dropped ?? 0);
    }
    const seq = this.meta.nextSeq;
    const message = build(seq, this.meta.carried);
    await writeJson(this.storage, this.key(seq), message);
    this.seqs.push(seq);
    this.meta = { nextSeq: seq + 1, carried: 0 };
    await writeJson(this.storage, `${this.dir}/meta.json`, this.meta);
    return message;
  }

  /** The stored message `seq`, or null. */
  read(seq: number): Promise<T | null> {
    return readJson<T>(this.storage, this.key(seq));
  }

  /** Forgets acknowledged messages; unknown numbers are ignored (acks may repeat). */
  async ack(seqs: readonly number[]): Promise<number> {
    const drop = new Set(seqs);
    let n = 0;
    for (const seq of this.seqs.filter((s) => drop.has(s))) {
      await this.storage.delete(this.key(seq));
      n++;
    }
    this.seqs = this.seqs.filter((s) => !drop.has(s));
    return n;
  }

  private key(seq: number): string {
    return `${this.dir}/m-${String(seq).padStart(12, '0')}.json`;
  }
}
