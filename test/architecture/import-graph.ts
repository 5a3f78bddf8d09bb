// Reads the import graph of server/src (and of edge-agent/src) from the source text, so the layering rules
// in docs/architecture.md can be checked as a whole (eslint sees one file at a time and no cycles).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const serverSrc = resolve(dirname(fileURLToPath(import.meta.url)), '../../server/src');
export const agentSrc = resolve(dirname(fileURLToPath(import.meta.url)), '../../edge-agent/src');

// Static imports and re-exports (`import ... from`, `export ... from`, bare `import '...'`),
// `import type` included, and dynamic `import('...')` with a literal specifier.
const specifierPatterns = [
  /\b(?:import|export)\s[^;'"]*?\sfrom\s*['"]([^'"]+)['"]/g,
  /\bimport\s*['"]([^'"]+)['"]/g,
  /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sourceFiles(path);
    return /\.(ts|mjs)$/.test(entry.name) ? [path] : [];
  });
}

export function importSpecifiers(text: string): string[] {
  // Comments mention paths too; drop them before matching.
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  return specifierPatterns.flatMap((pattern) => [...code.matchAll(pattern)].map((m) => m[1]!));
}

/** Edges between the modules under `root` (server/src by default); imports of packages and of files outside it are left out. */
/** Keys are module paths relative to `root` with forward slashes, e.g. `rollouts/rollout-engine.ts`. */
export function importGraph(root = serverSrc): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(root)) {
    const targets = importSpecifiers(readFileSync(file, 'utf8'))
      .filter((s) => s.startsWith('.'))
      .map((s) => resolve(dirname(file), s))
      .filter((target) => !relative(root, target).startsWith('..'))
      .map((target) => relative(root, target).split(sep).join('/'));
    graph.set(relative(root, file).split(sep).join('/'), [...new Set(targets)]);
  }
  return graph;
}

/** Strongly connected components with more than one module (or a module importing itself). */
export function importCycles(graph: Map<string, string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (node: string) => {
    index.set(node, counter);
    low.set(node, counter++);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue;
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, index.get(next)!));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1 || graph.get(node)!.includes(node)) cycles.push(component.sort());
  };
  for (const node of [...graph.keys()].sort()) if (!index.has(node)) visit(node);
  return cycles;
}

/**
 * The layers of docs/architecture.md. Everything that is not HTTP, composition, a program or a
 * storage engine is a domain (including `store/` itself, which holds the store ports).
 */
export type Layer = 'api' | 'composition' | 'program' | 'engine' | 'domain';

export function layerOf(module: string): Layer {
  if (module.startsWith('api/')) return 'api';
  if (module === 'main.ts' || module.startsWith('wiring/')) return 'composition';
  if (/^(cli|demo|bench)\//.test(module)) return 'program';
  if (/^store\/[^/]+\//.test(module)) return 'engine';
  return 'domain';
}

/** `store/sqlite/db.ts` → `store/sqlite`; undefined outside a store engine. */
const engineOf = (module: string) => /^store\/[^/]+\//.exec(module)?.[0];

/**
 * Imports that point up or sideways: a domain into `api/`, composition, a program or a store engine;
 * a store engine into anything but domains and its own folder (one engine never borrows from another).
 */
export function upwardImports(graph: Map<string, string[]>): string[] {
  const found: string[] = [];
  for (const [from, targets] of graph) {
    const layer = layerOf(from);
    if (layer !== 'domain' && layer !== 'engine') continue;
    for (const to of targets) {
      if (layerOf(to) === 'domain' || (layer === 'engine' && engineOf(to) === engineOf(from))) continue;
      found.push(`${from} -> ${to}`);
    }
  }
  return found.sort();
}

/** Folder of a module (a store engine counts as its own folder): `store/sqlite`, `rollouts`, `(root)`. */
export function folderOf(module: string): string {
  const parts = module.split('/');
  if (parts.length === 1) return '(root)';
  return engineOf(module)?.slice(0, -1) ?? parts[0]!;
}

/** The graph between folders, each edge standing for one or more module imports. */
export function folderGraph(graph: Map<string, string[]>): Map<string, string[]> {
  const folders = new Map<string, Set<string>>();
  for (const [from, targets] of graph) {
    const edges = folders.get(folderOf(from)) ?? new Set<string>();
    for (const to of targets) if (folderOf(to) !== folderOf(from)) edges.add(folderOf(to));
    folders.set(folderOf(from), edges);
  }
  return new Map([...folders].map(([folder, edges]) => [folder, [...edges]]));
}

/** What the agent's model layer may import besides itself: the runtime seam, preprocessing, the agent's errors. */
const belowModel = /^(model|runtime|preprocess)\/|^errors\.ts$/;

/** Imports from the agent's `model/` (a graph of edge-agent/src) into anything above it. */
export function modelLayerEscapes(graph: Map<string, string[]>): string[] {
  const found: string[] = [];
  for (const [from, targets] of graph) {
    if (!from.startsWith('model/')) continue;
    for (const to of targets) if (!belowModel.test(to)) found.push(`${from} -> ${to}`);
  }
  return found.sort();
}
