// Workspace-only face for the repository's own tests: on-disk records the crash tests read back, the
// runtime contract's probe, the storage contract suite. Not in the published exports (package.json publishConfig).
export { loadRecord } from './update/update-record.ts';
export { readPointer } from './update/slots.ts';
export { probeModel } from './model/self-test.ts';
export { storageContract } from './storage/storage-contract.ts';
