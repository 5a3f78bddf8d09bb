// The layering of docs/architecture.md, checked on the whole of server/src: no import circles between
// modules or folders, and nothing from a domain up into HTTP, composition, programs or a store engine;
// and on edge-agent/src: no import circles between modules, and nothing from model/ up into the agent's top.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  agentSrc,
  folderGraph,
  importCycles,
  importGraph,
  importSpecifiers,
  layerOf,
  modelLayerEscapes,
  upwardImports,
} from './import-graph.ts';

describe('server/src import graph', () => {
  const graph = importGraph();

  it('reads the real tree', () => {
    // Guards against a graph that is empty because the reader broke, which would pass every check below.
    expect(graph.size).toBeGreaterThan(300);
    expect(graph.get('main.ts')).toContain('wiring/side-stores.ts');
  });

  it('has no import circles between modules', () => {
    expect(importCycles(graph)).toEqual([]);
  });

  it('has no import circles between folders', () => {
    expect(importCycles(folderGraph(graph))).toEqual([]);
  });

  it('has no import from a domain into api/, wiring/, main.ts, cli/, bench/ or a store engine, nor between engines', () => {
    expect(upwardImports(graph)).toEqual([]);
  });
});

describe('edge-agent/src import graph', () => {
  const graph = importGraph(agentSrc);

  it('reads the real tree', () => {
    expect(graph.size).toBeGreaterThan(60);
    expect(graph.get('core/compose.ts')).toContain('model/model-host.ts');
  });

  it('has no import circles between modules', () => {
    expect(importCycles(graph)).toEqual([]);
  });

  it("has no import from model/ into the agent's top (only model/, runtime/, preprocess/, errors.ts)", () => {
    expect(modelLayerEscapes(graph)).toEqual([]);
  });
});

describe('import graph reader', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-graph-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const tree = (files: Record<string, string>) => {
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(join(dir, path, '..'), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    return importGraph(dir);
  };

  it('reads static, type-only, re-exported and dynamic imports, not comments', () => {
    expect(
      importSpecifiers(
        [
          "import { a } from './a.ts';",
          "import type { B } from '../b.ts';",
          "export { c } from './c.ts';",
          "import './d.ts';",
          "const e = await import('./e.ts');",
          "// import { f } from './f.ts';",
          "import {\n  g,\n  h,\n} from './gh.ts';",
        ].join('\n'),
      ),
    ).toEqual(['./a.ts', '../b.ts', './c.ts', './gh.ts', './d.ts', './e.ts']);
  });

  it('finds a circle and an upward import', () => {
    const graph = tree({
      'rollouts/engine.ts': "import { x } from './spec.ts';\nimport { errorBody } from '../api/errors.ts';",
      'rollouts/spec.ts': "import type { Engine } from './engine.ts';",
      'api/errors.ts': 'export const errorBody = 1;',
      'store/sqlite/db.ts': "import { y } from '../postgres/pg.ts';",
      'store/postgres/pg.ts': 'export const y = 1;',
    });
    expect(importCycles(graph)).toEqual([['rollouts/engine.ts', 'rollouts/spec.ts']]);
    expect(upwardImports(graph)).toEqual(['rollouts/engine.ts -> api/errors.ts', 'store/sqlite/db.ts -> store/postgres/pg.ts']);
  });

  it("finds an import from the agent's model layer into its top", () => {
    const graph = tree({
      'model/model-host.ts':
        "import { Agent } from '../core/agent.ts';\nimport { toTensor } from '../runtime/tensors.ts';\nimport { AgentError } from '../errors.ts';",
      'core/agent.ts': "import { ModelHost } from '../model/model-host.ts';",
      'runtime/tensors.ts': 'export const toTensor = 1;',
      'errors.ts': 'export class AgentError {}',
    });
    expect(modelLayerEscapes(graph)).toEqual(['model/model-host.ts -> core/agent.ts']);
  });

  it('sorts modules into layers', () => {
    expect(
      [
        'api/app.ts',
        'wiring/fleet.ts',
        'main.ts',
        'cli/demo/demo.ts',
        'bench/rollout.ts',
        'store/sqlite/db.ts',
        'store/store.ts',
        'rollouts/target.ts',
        'config.ts',
      ].map(layerOf),
    ).toEqual(['api', 'composition', 'composition', 'program', 'program', 'engine', 'domain', 'domain', 'domain']);
  });
});
