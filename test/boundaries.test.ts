// Import rules for the whole tree: no module reaches itself through its imports (a cycle makes
// load order decide whether a binding is initialised yet), and tools/ is layered so that
// data and metrics → train → eval → commands only ever import downward. runtime/'s own finer rules (browser-safe
// modules) live in test/runtime/boundaries.test.ts and test/web/boundaries.test.ts.
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { specifiers } from './import-specifiers.ts';

const ROOT = resolve(import.meta.dirname, '..');
const TREES = ['graph', 'runtime', 'tools', 'bench', 'web', 'test'];
const SKIP = new Set(['node_modules', 'dist']);

/**
 * tools/ folders by layer, lowest first. A module may import modules of its own layer or a lower
 * one. The top-level modules (tools/*.ts: the CLIs) belong to the last layer with tools/commands,
 * except those a layer names in `files` (progress.ts: the progress output every layer uses).
 */
const TOOLS_LAYERS: { name: string; folders: string[]; files?: string[] }[] = [
  { name: 'data and metrics', folders: ['tools/data', 'tools/metrics'], files: ['tools/progress.ts'] },
  { name: 'train', folders: ['tools/train'] },
  { name: 'eval', folders: ['tools/eval', 'tools/explain', 'tools/quantize', 'tools/score', 'tools/serve'] },
  { name: 'commands', folders: ['tools/commands', 'tools'] },
];

/** Module graph over `sources` (root-relative paths → source): relative imports that land on
 * another module of the set. */
function importGraph(sources: Map<string, string>): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const [file, src] of sources) {
    const deps = specifiers(src)
      .filter((s) => s.startsWith('.'))
      .map((s) => relative(ROOT, resolve(ROOT, dirname(file), s)))
      .filter((d) => sources.has(d));
    graph.set(file, [...new Set(deps)]);
  }
  return graph;
}

/** One cycle (as a path that returns to its start) for every strongly connected component that
 * has one, by Tarjan's algorithm. */
function cycles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component = new Set<string>();
    for (let w = ''; w !== v; ) {
      w = stack.pop()!;
      onStack.delete(w);
      component.add(w);
    }
    if (component.size > 1 || graph.get(v)!.includes(v)) found.push(cycleThrough(v, component, graph));
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return found;
}

/** A shortest path from `start` back to itself inside `component` (breadth first). */
function cycleThrough(start: string, component: Set<string>, graph: Map<string, string[]>): string[] {
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length) {
    const v = queue.shift()!;
    for (const w of graph.get(v)!) {
      if (!component.has(w)) continue;
      if (w === start) {
        const path = [v];
        while (path[0] !== start) path.unshift(previous.get(path[0])!);
        return [...path, start];
      }
      if (!previous.has(w)) {
        previous.set(w, v);
        queue.push(w);
      }
    }
  }
  throw new Error(`no cycle through ${start}`);
}

/** The tools/ layer of a module, or undefined for modules outside tools/. */
function toolsLayer(file: string): number | undefined {
  const folder = dirname(file);
  const named = TOOLS_LAYERS.findIndex(({ files }) => files?.includes(file));
  if (named >= 0) return named;
  const layer = TOOLS_LAYERS.findIndex(({ folders }) => folders.some((f) => folder === f || (f !== 'tools' && folder.startsWith(`${f}/`))));
  if (layer < 0 && file.startsWith('tools/')) throw new Error(`${file}: tools/ folder ${folder} has no layer; add it to TOOLS_LAYERS`);
  return layer < 0 ? undefined : layer;
}

/** Imports that go against the rules: upward in tools/, runtime/ into graph/ or tools/, graph/
 * into tools/. */
function violations(graph: Map<string, string[]>): string[] {
  const bad: string[] = [];
  const top = (f: string) => f.split('/')[0];
  for (const [file, deps] of graph) {
    for (const dep of deps) {
      if (top(file) === 'runtime' && ['graph', 'tools'].includes(top(dep))) bad.push(`${file} → ${dep} (runtime/ is a leaf)`);
      if (top(file) === 'graph' && top(dep) === 'tools') bad.push(`${file} → ${dep} (graph/ does not know tools/)`);
      const from = toolsLayer(file);
      const to = toolsLayer(dep);
      if (from !== undefined && to !== undefined && to > from) {
        bad.push(`${file} → ${dep} (the ${TOOLS_LAYERS[from].name} layer imports the higher ${TOOLS_LAYERS[to].name} layer)`);
      }
    }
  }
  return bad;
}

async function sourcesUnder(dir: string, out: Map<string, string>): Promise<void> {
  for (const entry of await readdir(join(ROOT, dir), { withFileTypes: true })) {
    if (SKIP.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await sourcesUnder(path, out);
    else if (/\.(ts|js|mjs)$/.test(entry.name)) out.set(path, await readFile(join(ROOT, path), 'utf8'));
  }
}

const tree = async () => {
  const sources = new Map<string, string>();
  for (const dir of TREES) await sourcesUnder(dir, sources);
  return sources;
};

test('the cycle finder names a deliberate cycle, type-only imports included, and nothing in an acyclic set', () => {
  const graph = importGraph(
    new Map([
      ['tools/train/a.ts', "import { b } from './b.ts';\nexport const a = 1;"],
      ['tools/train/b.ts', "import type { A } from './c.ts';\nexport const b = 2;"],
      ['tools/train/c.ts', "export { a } from './a.ts';"],
      ['tools/train/d.ts', "import { a } from './a.ts';"],
      ['tools/train/self.ts', "import './self.ts';"],
    ]),
  );
  assert.equal(cycles(graph), [
    ['tools/train/a.ts', 'tools/train/b.ts', 'tools/train/c.ts', 'tools/train/a.ts'],
    ['tools/train/self.ts', 'tools/train/self.ts'],
  ]);
  graph.set('tools/train/c.ts', []);
  graph.set('tools/train/self.ts', []);
  assert.equal(cycles(graph), []);
});

test('the layer rules catch an upward import in tools/, and runtime/ or graph/ reaching up', () => {
  const graph = importGraph(
    new Map([
      ['tools/data/load.ts', "import { fit } from '../train/fit.ts';"],
      ['tools/train/fit.ts', "import { rows } from '../data/load.ts';\nimport { m } from '../eval/report.ts';"],
      ['tools/eval/report.ts', "import { fit } from '../train/fit.ts';"],
      ['tools/cli.ts', "import { m } from './eval/report.ts';"],
      ['tools/train/loop.ts', "import { bar } from '../progress.ts';\nimport { main } from '../cli.ts';"],
      ['tools/progress.ts', ''],
      ['runtime/node.ts', "import { g } from '../graph/ir.ts';"],
      ['graph/ir.ts', "import { rows } from '../tools/data/load.ts';"],
    ]),
  );
  assert.equal(violations(graph).map((v) => v.split(' (')[0]).sort(), [
    'graph/ir.ts → tools/data/load.ts',
    'runtime/node.ts → graph/ir.ts',
    'tools/data/load.ts → tools/train/fit.ts',
    'tools/train/fit.ts → tools/eval/report.ts',
    'tools/train/loop.ts → tools/cli.ts',
  ]);
  assert.throws(() => toolsLayer('tools/newfolder/x.ts'), /tools\/newfolder has no layer/);
});

test('no import cycles in graph/, runtime/, tools/, bench/, web/ or test/', async () => {
  const sources = await tree();
  assert.ok(sources.has('graph/core/ir.ts') && sources.has('tools/ort-train.ts') && sources.has('web/app.js'), 'the tree was read');
  const found = cycles(importGraph(sources)).map((c) => c.join(' → '));
  assert.equal(found, [], `import cycles:\n${found.join('\n')}`);
});

test('tools/ imports only downward (data → train → eval → commands); runtime/ and graph/ never import up', async () => {
  const bad = violations(importGraph(await tree()));
  assert.equal(bad, [], `imports against the layers:\n${bad.join('\n')}`);
});

test.run();
