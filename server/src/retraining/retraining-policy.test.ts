// The policy file is shared by every server process (--shared-dir): each sees the others' changes.
import { mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { JsonPolicyStore, RetrainingPolicy } from './retraining-policy.ts';

const dir = mkdtempSync(join(tmpdir(), 'flotilla-policies-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('sees a policy another process wrote to the shared file, and keeps both processes\' models', () => {
  const a = new JsonPolicyStore(dir);
  const b = new JsonPolicyStore(dir);
  a.put('digits', RetrainingPolicy.parse({ trigger: {}, data: { parent: 'mnist' } }));
  // Same-millisecond writes would share an mtime; a real second process writes later.
  utimesSync(join(dir, 'retraining-policies.json'), new Date(), new Date(Date.now() + 1000));
  expect(b.get('digits')).not.toBeNull();
  b.put('speech', RetrainingPolicy.parse({ trigger: {}, data: { parent: 'speech-v1' }, after: 'canary' }));
  utimesSync(join(dir, 'retraining-policies.json'), new Date(), new Date(Date.now() + 2000));
  expect(Object.keys(a.list()).sort()).toEqual(['digits', 'speech']);
  expect(a.get('speech')?.after).toBe('canary');
});
