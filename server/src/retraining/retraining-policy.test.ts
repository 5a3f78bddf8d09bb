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

it('keeps models named __proto__, constructor or toString as plain names, and reads them back from the file', () => {
  const sub = mkdtempSync(join(dir, 'names-'));
  const s = new JsonPolicyStore(sub);
  expect(s.get('constructor')).toBeNull();
  expect(s.get('toString')).toBeNull();
  s.put('__proto__', RetrainingPolicy.parse({ trigger: {}, data: { parent: 'p' } }));
  s.put('other', RetrainingPolicy.parse({ trigger: {}, data: { parent: 'o' } }));
  expect(s.get('__proto__')?.data.parent).toBe('p');
  expect(Object.keys(s.list()).sort()).toEqual(['__proto__', 'other']);
  const fresh = new JsonPolicyStore(sub);
  expect(fresh.get('__proto__')?.data.parent).toBe('p');
  expect(fresh.get('other')?.data.parent).toBe('o');
  expect(fresh.get('constructor')).toBeNull();
});

it('refuses a policy that cannot be written without breaking later writes', () => {
  const s = new JsonPolicyStore(mkdtempSync(join(dir, 'deep-')));
  let hyper: unknown = 1;
  for (let i = 0; i < 200_000; i++) hyper = [hyper];
  expect(() => s.put('deep', RetrainingPolicy.parse({ trigger: {}, data: { parent: 'p' }, train: { hyper: { x: hyper } } }))).toThrow();
  expect(s.get('deep')).toBeNull();
  s.put('fine', RetrainingPolicy.parse({ trigger: {}, data: { parent: 'p' } }));
  expect(s.get('fine')).not.toBeNull();
});
