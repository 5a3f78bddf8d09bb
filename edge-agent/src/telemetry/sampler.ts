// Sampled inputs with their predictions, at the server's rate and byte budget, labelled when feedback arrives.
import type { DeviceFeedbackSource, SampleBatch } from '@flotilla/firmware-bundler/wire';
import { toBase64 } from '@flotilla/firmware-bundler/wire';

export type SampleItem = SampleBatch['items'][number];

/** Labelled-late samples remembered, so a label that comes after its window closed still reaches the server. */
const RECENT_LIMIT = 256;

/** Picks samples for retraining: each row with probability `rate`, within `budgetBytes` per window. */
export class Sampler {
  rate = 0;
  budgetBytes = 0;
  private items: SampleItem[] = [];
  private used = 0;
  private readonly recent = new Map<string, SampleItem>();

  constructor(private readonly random: () => number = Math.random) {}

  /** Offers one answered row (raw input, before preprocessing); true when it was sampled. */
  offer(
    predictionId: string,
    input: ArrayLike<number>,
    shape: readonly number[],
    prediction: number,
    confidence: number,
    at: number,
  ): boolean {
    if (this.rate <= 0 || this.random() >= this.rate) return false;
    const size = Math.ceil((input.length * 4) / 3) * 4 + 200;
    if (this.used + size > this.budgetBytes) return false;
    const f = Float32Array.from(input);
    const item: SampleItem = {
      predictionId,
      input: toBase64(new Uint8Array(f.buffer)),
      shape: [...shape],
      prediction,
      confidence,
      label: null,
      at: new Date(at).toISOString(),
    };
    this.items.push(item);
    this.used += size;
    this.recent.set(predictionId, item);
    if (this.recent.size > RECENT_LIMIT) this.recent.delete(this.recent.keys().next().value!);
    return true;
  }

  /**
   * Attaches a label and where it came from [WIRE-2.12.1]; a sample already sent goes out again, labelled,
   * in this window (budget allowing).
   */
  label(predictionId: string, label: number, source: DeviceFeedbackSource = 'app'): boolean {
    const item = this.recent.get(predictionId);
    if (!item) return false;
    if (this.items.includes(item)) {
      item.label = label;
      item.source = source;
      return true;
    }
    const size = item.input.length + 200;
    if (this.used + size > this.budgetBytes) return false;
    const again = { ...item, label, source };
    this.recent.set(predictionId, again);
    this.items.push(again);
    this.used += size;
    return true;
  }

  /** This window's samples; starts the next window's budget. */
  drain(): SampleItem[] {
    const out = this.items;
    this.items = [];
    this.used = 0;
    return out;
  }
}
