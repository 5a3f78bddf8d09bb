// The corpus tests' view of the shared corpus builder (server/src/convert/testing/corpus-cache.ts, also used by the real-models bench).
export { ensureCorpus, type CorpusManifest, type CorpusModel } from '@flotilla/server/convert/testing/corpus-cache';
