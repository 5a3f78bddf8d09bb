// The SQLite RolloutStore against the contract, opened through the whole SqliteStore (migration 3 included).
import { afterAll, describe, expect, it } from 'vitest';
import { rolloutStoreContract, sampleRollout } from '../../rollouts/rollout-store-contract.ts';
import { scratch } from '@flotilla/test/support/rollout-test-kit';

const tmp = scratch();
afterAll(() => tmp.cleanup());

rolloutStoreContract('sqlite file', async () => {
  const store = tmp.open('contract');
  return { store: store.rollouts, close: () => store.close() };
});

describe('SqliteRolloutStore', () => {
  it('keeps rollouts across reopen', async () => {
    const { openSqliteStore } = await import('./sqlite-store.ts');
    const a = openSqliteStore(tmp.path('reopen.db'));
    await a.rollouts.write({ rollout: sampleRollout('ro_keep') });
    await a.close();
    const b = openSqliteStore(tmp.path('reopen.db'));
    expect((await b.rollouts.get('ro_keep'))?.state).toBe('running');
    await b.close();
  });
});
