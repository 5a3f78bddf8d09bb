// The layering rule in eslint.config.js fires where it should: `npm run lint` fails on a domain file,
// test files included, that imports HTTP, composition, a program or a store engine.
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const eslint = new ESLint({ cwd: root });

/** Messages of the import rule for `text` linted as if it were the file at `path` (nothing is written). */
async function importErrors(path: string, text: string): Promise<string[]> {
  const [result] = await eslint.lintText(text, { filePath: `${root}/${path}` });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('layering lint rule', () => {
  it.each([
    ['server/src/rollouts/rollout-engine.test.ts', "import { errorBody } from '../api/errors.ts';"],
    ['server/src/monitoring/monitoring-service.ts', "import { openDb } from '../store/sqlite/db.ts';"],
    ['server/src/retraining/retraining-service.ts', "import type { SideStores } from '../wiring/side-stores.ts';"],
    ['server/src/devices/device-service.test.ts', "import { ApiClient } from '../cli/api-client.ts';"],
    ['server/src/store/lease.ts', "import { PostgresLeaseStore } from './postgres/leases.ts';"],
  ])('refuses %s importing upward', async (path, text) => {
    expect(await importErrors(path, `${text}\nexport {};\n`)).toEqual([expect.stringMatching(/^.* A domain may not import api\//)]);
  });

  it.each([
    ['server/src/api/routes/rollouts.ts', "import { RolloutEngine } from '../../rollouts/rollout-engine.ts';"],
    ['server/src/wiring/side-stores.ts', "import { openDb } from '../store/sqlite/db.ts';"],
    ['server/src/store/sqlite/db.ts', "import type { Store } from '../store.ts';"],
    ['server/src/rollouts/rollout-engine.ts', "import type { Store } from '../store/store.ts';"],
  ])('lets %s import what lies below it', async (path, text) => {
    expect(await importErrors(path, `${text}\nexport {};\n`)).toEqual([]);
  });

  it('still keeps test helpers out of production domain code', async () => {
    expect(await importErrors('server/src/rollouts/rollout-engine.ts', "import { startPostgres } from '@flotilla/test/support/postgres';\nexport {};\n"))
      .toEqual([expect.stringMatching(/Only tests may import test helpers/)]);
  });
});
