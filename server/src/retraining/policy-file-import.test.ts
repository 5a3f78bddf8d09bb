// The policies JSON file of older servers moves into the real SQLite RetrainingStore on first start: valid
// policies (models named __proto__ or constructor too) are imported, invalid ones left out and named, the file
// renamed `.migrated`, and a second start finds nothing to move.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createLogger } from '../log/logger.ts';
import { importPolicyFile, POLICY_FILE } from './policy-file-import.ts';
import { RetrainingPolicy } from './retraining-policy.ts';
import { openWorld } from '@flotilla/test/support/retraining-test-kit';

let world: Awaited<ReturnType<typeof openWorld>>;
let dir: string;
const log = createLogger('silent');

beforeEach(async () => {
  world = await openWorld();
  dir = mkdtempSync(join(tmpdir(), 'flotilla-policy-file-'));
});
afterEach(async () => {
  await world.close();
  rmSync(dir, { recursive: true, force: true });
});

it('imports every valid policy, names the invalid ones, keeps what the store has, and renames the file', async () => {
  await world.retraining.putPolicy('kept', RetrainingPolicy.parse({ trigger: {}, data: { parent: 'already-in-store' } }));
  // Written as an older server wrote it: JSON.stringify of the map, defaults filled in.
  const text = `{
    "digits": ${JSON.stringify(RetrainingPolicy.parse({ trigger: { onDriftAlert: true }, data: { parent: 'mnist' }, after: 'canary' }))},
    "__proto__": { "trigger": {}, "data": { "parent": "p" } },
    "constructor": { "trigger": {}, "data": { "parent": "c" } },
    "kept": { "trigger": {}, "data": { "parent": "from-file" } },
    "broken": { "trigger": {}, "data": {} }
  }`;
  writeFileSync(join(dir, POLICY_FILE), text);
  const out = await importPolicyFile(dir, world.retraining, log);
  expect(out).toEqual({
    imported: ['digits', '__proto__', 'constructor'],
    kept: ['kept'],
    refused: [{ model: 'broken', reason: expect.stringContaining('data.parent') }],
  });
  expect(await world.retraining.getPolicy('digits')).toEqual(
    RetrainingPolicy.parse({ trigger: { onDriftAlert: true }, data: { parent: 'mnist' }, after: 'canary' }),
  );
  expect((await world.retraining.getPolicy('__proto__'))?.data.parent).toBe('p');
  expect((await world.retraining.getPolicy('constructor'))?.data.parent).toBe('c');
  expect((await world.retraining.getPolicy('kept'))?.data.parent).toBe('already-in-store');
  expect(await world.retraining.getPolicy('broken')).toBeNull();
  expect(existsSync(join(dir, POLICY_FILE))).toBe(false);
  expect(readFileSync(join(dir, `${POLICY_FILE}.migrated`), 'utf8')).toBe(text);
  expect(await importPolicyFile(dir, world.retraining, log)).toBeNull();
});

it('leaves a file that is not a JSON object where it is, and the server still starts', async () => {
  writeFileSync(join(dir, POLICY_FILE), '{ "digits": ');
  expect((await importPolicyFile(dir, world.retraining, log))?.refused).toEqual([
    { model: '*', reason: 'not a JSON object of model → policy' },
  ]);
  expect(existsSync(join(dir, POLICY_FILE))).toBe(true);
  expect(await world.retraining.listPolicies()).toEqual([]);
});

it('refuses a policy in the file nested deeper than a stored policy may be', async () => {
  let deep = '1';
  for (let i = 0; i < 40; i++) deep = `[${deep}]`;
  writeFileSync(join(dir, POLICY_FILE), `{ "deep": { "trigger": {}, "data": { "parent": "p" }, "train": { "hyper": { "x": ${deep} } } } }`);
  expect((await importPolicyFile(dir, world.retraining, log))?.refused).toEqual([
    { model: 'deep', reason: 'nested deeper than 32 levels' },
  ]);
  expect(await world.retraining.getPolicy('deep')).toBeNull();
});
