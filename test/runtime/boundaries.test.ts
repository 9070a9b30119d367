// Import rules the runtime's users depend on: apps embed runtime/ without graph/ or tools/, and the
// browser runtime will reuse the pure modules, which therefore must not reach for Node or native code.
import { readdir, readFile } from 'node:fs/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const BROWSER_SAFE = ['attributes.ts', 'card.ts', 'card-validate.ts', 'errors.ts', 'hashing-text-encoder.ts', 'limits.ts', 'pixels.ts', 'provider-fallback.ts', 'random.ts', 'results.ts', 'schema.ts', 'strings.ts', 'text.ts'];

async function importsOf(file: string): Promise<string[]> {
  const src = await readFile(new URL(`../../runtime/${file}`, import.meta.url), 'utf8');
  return [...src.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+['"]([^'"]+)['"]/gm)].map((m) => m[1]);
}

test('no runtime module imports graph/ or tools/', async () => {
  const files = (await readdir(new URL('../../runtime/', import.meta.url))).filter((f) => f.endsWith('.ts'));
  assert.ok(files.includes('node.ts'));
  for (const f of files) {
    for (const spec of await importsOf(f)) assert.not.match(spec, /(^|\/)(graph|tools)\//, `${f} imports ${spec}`);
  }
});

test('browser-reusable modules import only each other', async () => {
  for (const f of BROWSER_SAFE) {
    for (const spec of await importsOf(f)) {
      assert.ok(spec.startsWith('./') && BROWSER_SAFE.includes(spec.slice(2)), `${f} imports ${spec}`);
    }
  }
});

test.run();
