// The browser runtime must stay loadable in a browser: everything runtime/web.ts reaches, import
// by import, is runtime code without Node built-ins, Node globals, native packages, graph/ or
// tools/. Following the imports (rather than listing files) keeps this true as modules move.
import { readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const RUNTIME = resolve(import.meta.dirname, '../../runtime');
/** The only package the browser runtime may import; apps' bundlers (or an import map) resolve it. */
const PACKAGES = ['onnxruntime-web'];

function specifiers(src: string): string[] {
  const found = [
    ...src.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+['"]([^'"]+)['"]/gm),
    ...src.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm),
    ...src.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g),
  ];
  return found.map((m) => m[1]);
}

/** Source without comments and string contents, so prose mentioning "Buffer" is not a hit. */
const code = (src: string) =>
  src
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:])\/\/.*$/gm, '$1')
    .replace(/`(?:\\.|[^`\\])*`|'(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*"/g, '""');

/** Every module reachable from `entry` through relative imports, with the bare specifiers seen. */
async function reach(entry: string): Promise<{ files: Map<string, string>; bare: Map<string, string> }> {
  const files = new Map<string, string>();
  const bare = new Map<string, string>();
  const queue = [entry];
  while (queue.length) {
    const file = queue.pop()!;
    if (files.has(file)) continue;
    const src = await readFile(file, 'utf8');
    files.set(file, src);
    for (const spec of specifiers(src)) {
      if (spec.startsWith('.')) queue.push(resolve(dirname(file), spec));
      else bare.set(spec, relative(RUNTIME, file));
    }
  }
  return { files, bare };
}

test('web.ts reaches only browser-safe runtime modules and onnxruntime-web', async () => {
  const { files, bare } = await reach(join(RUNTIME, 'web.ts'));
  const names = [...files.keys()].map((f) => relative(RUNTIME, f));
  // The shared pure modules are really shared, not re-implemented for the browser.
  for (const shared of ['pixels.ts', 'attributes.ts', 'hashing-text-encoder.ts', 'card-validate.ts', 'results.ts', 'scorer-common.ts', 'provider-fallback.ts']) {
    assert.ok(names.includes(shared), `web.ts should reach ${shared} (reaches ${names.join(', ')})`);
  }
  for (const name of names) {
    assert.ok(!name.startsWith('..'), `web.ts reaches ${name}, outside runtime/`);
    assert.ok(name.endsWith('.ts'), `${name}: imports use explicit .ts extensions`);
  }
  for (const node of ['node.ts', 'image-node.ts', 'execution.ts', 'model-files.ts', 'index.ts']) {
    assert.not.ok(names.includes(node), `web.ts reaches the Node module ${node}`);
  }
  for (const [spec, from] of bare) assert.ok(PACKAGES.includes(spec), `${from} imports "${spec}"; the browser runtime may import only ${PACKAGES.join(', ')}`);
});

test('no Node globals in anything web.ts reaches', async () => {
  const { files } = await reach(join(RUNTIME, 'web.ts'));
  for (const [file, src] of files) {
    const hit = code(src).match(/\b(process\.|Buffer\b|require\(|__dirname|__filename|global\.)/);
    assert.not.ok(hit, `${relative(RUNTIME, file)} uses the Node global ${hit?.[0]}`);
  }
});

test('the import scanner sees what it must refuse', async () => {
  // Guards against a scanner that finds nothing and so passes everything.
  assert.equal(specifiers(`import { a } from './a.ts';\nimport 'node:fs';\nexport * from "../graph/x.ts";\nconst m = await import('sharp');`), ['./a.ts', '../graph/x.ts', 'node:fs', 'sharp']);
  assert.match(code('const b = Buffer.from(x); // Buffer in a comment'), /Buffer\.from/);
  assert.not.match(code('// a Buffer\nconst s = "Buffer";'), /Buffer/);
});

test.run();
