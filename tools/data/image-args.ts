// Expands image arguments: files as given, directories to their image files (sorted).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export function imageArgs(args: string[]): string[] {
  const out: string[] = [];
  for (const a of args) {
    if (!existsSync(a)) throw new Error(`${a}: no such file or directory`);
    if (statSync(a).isDirectory()) out.push(...readdirSync(a).filter((f) => /\.(png|jpe?g|webp)$/i.test(f)).sort().map((f) => join(a, f)));
    else out.push(a);
  }
  return out;
}
