// Moves the retraining policies of older servers (one JSON file, `retraining-policies.json` in the data or
// shared folder) into the RetrainingStore on first start, then renames the file `.migrated` so it is read once
// and kept for the operator. Policies the store already has are kept (another process may have moved them first).
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../log/logger.ts';
import { policyBoundsProblem, RetrainingPolicy } from './retraining-policy.ts';
import type { RetrainingStore } from './retraining-store.ts';

export const POLICY_FILE = 'retraining-policies.json';

export interface PolicyImport {
  /** Models whose policy moved into the store. */
  imported: string[];
  /** Models the store already had a policy for (the store's is kept). */
  kept: string[];
  /** Models whose policy was not valid, with why (left out; the `.migrated` file still has them). */
  refused: { model: string; reason: string }[];
}

/** Imports `<dir>/retraining-policies.json` when present; null when there is none. */
export async function importPolicyFile(dir: string, store: RetrainingStore, log: Logger): Promise<PolicyImport | null> {
  const path = join(dir, POLICY_FILE);
  if (!existsSync(path)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    parsed = e;
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed) || parsed instanceof Error) {
    // Left in place: the server starts, and the operator sees why the file was not moved.
    log.error('retraining policy file is not a JSON object of model → policy; not imported (fix or remove it)', { path });
    return { imported: [], kept: [], refused: [{ model: '*', reason: 'not a JSON object of model → policy' }] };
  }
  const out: PolicyImport = { imported: [], kept: [], refused: [] };
  // Object.entries hands a `__proto__` key (kept by JSON.parse as an own property) over as a plain name.
  for (const [model, raw] of Object.entries(parsed)) {
    const bounds = policyBoundsProblem(raw);
    const r = bounds ? null : RetrainingPolicy.safeParse(raw);
    if (!r?.success) {
      out.refused.push({ model, reason: bounds ?? r!.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
      continue;
    }
    if (await store.getPolicy(model)) out.kept.push(model);
    else {
      await store.putPolicy(model, r.data);
      out.imported.push(model);
    }
  }
  try {
    renameSync(path, `${path}.migrated`);
  } catch (e) {
    // Another server process sharing the folder renamed it first.
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  log.info('retraining policies moved from their JSON file into the store', { path: `${path}.migrated`, ...out });
  if (out.refused.length) log.warn('retraining policies in the old file were invalid and left out', { refused: out.refused });
  return out;
}
