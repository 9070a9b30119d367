// Bin shims load the TypeScript sources through tsx, so the package ships no build step.
import { register } from 'tsx/esm/api';
import { pathToFileURL } from 'node:url';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

register();
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export function runTs(relPath) {
  return import(pathToFileURL(join(root, relPath)).href);
}
