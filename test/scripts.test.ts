// Every program the npm scripts run is node, npm, or the bin of a package this package declares,
// so `npm ci` from a clean clone gives each script what it calls (esbuild was once used by
// build:web while arriving only as tsx's dependency).
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const ROOT = resolve(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const BUILT_IN = ['node', 'npm'];

/** The programs a script line starts, one per command between &&, ||, ; and |, past VAR=value prefixes. */
function programsOf(line: string): string[] {
  return line
    .split(/&&|\|\||[;|]/)
    .map((cmd) => cmd.trim().split(/\s+/).find((w) => !/^[A-Za-z_][A-Za-z0-9_]*=/.test(w)) ?? '')
    .filter(Boolean);
}

/** The command names the declared packages install into node_modules/.bin. */
function declaredBins(): Set<string> {
  const bins = new Set<string>();
  for (const name of Object.keys({ ...pkg.dependencies, ...pkg.devDependencies })) {
    const meta = JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { name: string; bin?: string | Record<string, string> };
    if (typeof meta.bin === 'string') bins.add(meta.name.replace(/^@[^/]+\//, ''));
    else for (const b of Object.keys(meta.bin ?? {})) bins.add(b);
  }
  return bins;
}

function undeclared(scripts: Record<string, string>, bins: Set<string>): string[] {
  return Object.entries(scripts).flatMap(([name, line]) =>
    programsOf(line).filter((p) => !BUILT_IN.includes(p) && !bins.has(p)).map((p) => `${name}: ${p}`),
  );
}

test('every program the scripts run is declared', () => {
  const bins = declaredBins();
  assert.ok(bins.has('tsx') && bins.has('tsc') && bins.has('esbuild'), [...bins].join(', '));
  assert.equal(undeclared(pkg.scripts, bins), []);
});

test('the check sees an undeclared program', () => {
  assert.equal(programsOf(`node -e "x" && FOO=1 esbuild a.ts | tee log`), ['node', 'esbuild', 'tee']);
  assert.equal(undeclared({ build: 'tsc -p . && rollup -c' }, declaredBins()), ['build: rollup']);
});

test.run();
