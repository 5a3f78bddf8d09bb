// Retained messages found by topic, not by scanning: aedes's in-memory persistence answers every SUBSCRIBE
// by testing each retained message (a desired, reported and presence state per device) against each filter,
// so a fleet of N devices (re)subscribing cost N × 3N topic matches on the event loop: 1,000 agents
// connecting held it for two seconds in the soak. A device subscribes to exact topics only [WIRE-1.4], so
// those are looked up in a mirror of the retained set; a filter with a wildcard still goes to aedes's scan.
import { Readable } from 'node:stream';

interface RetainedPacket {
  topic: string;
  payload: Buffer;
}

/** The part of aedes's persistence this wraps. */
export interface RetainedPersistence {
  storeRetained(packet: RetainedPacket, cb?: (err: Error | null) => void): unknown;
  createRetainedStreamCombi(patterns: string[]): Readable;
}

const wildcard = (pattern: string) => pattern.includes('+') || pattern.includes('#');

/** Makes `p` answer wildcard-free SUBSCRIBEs from a topic-keyed mirror; returns the mirror's size (for tests). */
export function exactRetained(p: RetainedPersistence): { size(): number } {
  const byTopic = new Map<string, RetainedPacket>();
  const store = p.storeRetained.bind(p);
  const combi = p.createRetainedStreamCombi.bind(p);
  p.storeRetained = (packet, cb) => {
    // As aedes stores it: a copy, and an empty payload clears the topic.
    if (packet.payload.length === 0) byTopic.delete(packet.topic);
    else byTopic.set(packet.topic, { ...packet });
    return store(packet, cb);
  };
  p.createRetainedStreamCombi = (patterns) => {
    if (patterns.some(wildcard)) return combi(patterns);
    return Readable.from(patterns.flatMap((t) => (byTopic.has(t) ? [byTopic.get(t)!] : [])));
  };
  return { size: () => byTopic.size };
}
