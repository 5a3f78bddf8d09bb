// Node entry of @flotilla/firmware-bundler: the browser-safe API plus file-system helpers.
export * from '../index.ts';
export { nodeSha256Hex } from './node-hash.ts';
export { loadPublicKey, loadSecretKey, writeKeyPair, type KeyPairFiles } from './key-store.ts';
export { writeFilesUnder } from './safe-write.ts';
export { writeFileAtomic, type AtomicWriteOptions } from './atomic-write.ts';
export { unpackBundle, type UnpackOptions, type UnpackResult } from './unpack.ts';
export { writeExportC, type ExportCResult } from './export-c-files.ts';
export { maxBundleBytes, readBundleFile, writeBundleFile } from './bundle-files.ts';
