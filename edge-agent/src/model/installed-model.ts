// What the model layer is handed to load: a verified model's files. The update flow reads and verifies
// slots (update/slots.ts); the types live here so the model layer never looks up at the update flow.
import type { BundleManifest } from '@flotilla/firmware-bundler';

/** One of the two model slots. */
export type SlotName = 'a' | 'b';

/** A slot whose envelope signature and every file hash verified. */
export interface InstalledModel {
  slot: SlotName;
  envelopeDigest: string;
  manifestDigest: string;
  manifest: BundleManifest;
  files: ReadonlyMap<string, Uint8Array>;
}
