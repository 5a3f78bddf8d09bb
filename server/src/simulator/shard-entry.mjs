// Entry of a simulator worker process: registers the TypeScript loader (no build step), then runs the worker.
import { register } from 'tsx/esm/api';

register();
await import('./shard-worker.ts');
