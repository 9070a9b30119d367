// What `m2fn serve --web` serves beside the API: the scoring page (web/), the browser runtime's
// bundle (dist/web/, from `npm run build:web`), onnxruntime-web's module and .wasm files, and the
// model directory — at the relative URLs the page loads them from, so the same folder layout works
// on any static file host.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
const BUNDLE = join(ROOT, 'dist/web/m2fn-web.js');

/** URL prefix → directory, for startServer's `static`. */
export function webPageMounts(modelDir: string): Record<string, string> {
  if (!existsSync(BUNDLE)) throw new Error(`the browser runtime's bundle ${BUNDLE} is missing: run \`npm run build:web\``);
  const ortDist = dirname(createRequire(import.meta.url).resolve('onnxruntime-web'));
  return { '/': join(ROOT, 'web'), '/lib/': dirname(BUNDLE), '/ort/': ortDist, '/model-files/': resolve(modelDir) };
}
