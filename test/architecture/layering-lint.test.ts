// The layering rules in eslint.config.js fire where they should: `npm run lint` fails on a server domain
// file, test files included, that imports HTTP, composition, a program or a store engine, and on an agent
// model-layer file that imports the agent's top.
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
    expect(
      await importErrors(
        'server/src/rollouts/rollout-engine.ts',
        "import { startPostgres } from '@flotilla/test/support/postgres';\nexport {};\n",
      ),
    ).toEqual([expect.stringMatching(/Only tests may import test helpers/)]);
  });
});

describe('agent model-layer lint rule', () => {
  it.each([
    ['edge-agent/src/model/model-host.ts', "import { Agent } from '../core/agent.ts';"],
    ['edge-agent/src/model/active-model.ts', "import type { InstalledModel } from '../update/slots.ts';"],
    ['edge-agent/src/model/self-test.ts', "import type { ServerLink } from '../transport/server-link.ts';"],
    ['edge-agent/src/model/predictions.ts', "import { TelemetryService } from '../telemetry/telemetry-service.ts';"],
    ['edge-agent/src/model/accelerator.test.ts', "import { ShadowRunner } from '../shadow/shadow-runner.ts';"],
  ])('refuses %s importing the top', async (path, text) => {
    expect(await importErrors(path, `${text}\nexport {};\n`)).toEqual([
      expect.stringMatching(/^.* The agent's model\/ may import only runtime\//),
    ]);
  });

  it("refuses the agent's own public face in model/", async () => {
    expect(
      await importErrors('edge-agent/src/model/model-host.ts', "import { AgentError } from '@flotilla/edge-agent';\nexport {};\n"),
    ).toEqual([expect.stringMatching(/may not import the agent's own public faces/)]);
  });

  it.each([
    ['edge-agent/src/model/named-predict.ts', "import { toTensor } from '../runtime/tensors.ts';"],
    ['edge-agent/src/model/active-model.ts', "import { compilePipeline } from '../preprocess/pipeline.ts';"],
    ['edge-agent/src/model/self-test.ts', "import { AgentError } from '../errors.ts';"],
    ['edge-agent/src/model/model-host.ts', "import { loadActiveModel } from './active-model.ts';"],
    ['edge-agent/src/model/active-model.ts', "import { compileFeatures } from '@flotilla/firmware-bundler';"],
    ['edge-agent/src/update/steps.ts', "import { retire } from '../model/active-model.ts';"],
  ])('lets %s import what lies below it', async (path, text) => {
    expect(await importErrors(path, `${text}\nexport {};\n`)).toEqual([]);
  });

  it('still keeps the server and test helpers out of the model layer', async () => {
    expect(
      await importErrors(
        'edge-agent/src/model/model-host.ts',
        "import { x } from '@flotilla/server';\nimport { y } from '@flotilla/test/support/tools';\nexport {};\n",
      ),
    ).toEqual([expect.stringMatching(/never imports the server/), expect.stringMatching(/Only tests may import test helpers/)]);
  });
});
