// A small synthetic ad world, prepared into a dataset, shared by the trainer tests (built once
// per machine under the temp dir; the world's seed makes it the same every time).
import { spawnSync } from 'node:child_process';
import { existsSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(tmpdir(), 'm2fn-test-world-v1');
export const DATASET = join(ROOT, 'dataset');
/** The synthesized world the dataset came from (world.json: each ad's planted image factors). */
export const WORLD = join(ROOT, 'world');

function m2fn(args: string[]): void {
  const r = spawnSync(process.execPath, ['bin/m2fn.js', ...args, '--quiet'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`m2fn ${args[0]} failed: ${r.stderr}`);
}

export function testDataset(): string {
  if (existsSync(join(DATASET, 'dataset.json'))) return DATASET;
  const work = `${ROOT}.tmp-${process.pid}`;
  rmSync(work, { recursive: true, force: true });
  m2fn(['synth', '--out', join(work, 'world'), '--images', '160', '--impressions', '400000', '--image-size', '64', '--seed', '3']);
  m2fn(['prepare', '--world', join(work, 'world'), '--out', join(work, 'dataset'), '--merge-below', '5000', '--size', '64']);
  rmSync(ROOT, { recursive: true, force: true });
  renameSync(work, ROOT);
  return DATASET;
}

export const SMALL_MODEL = ['--size', '64', '--width', '0.125', '--head-hidden', '32', '--cbn-hidden', '16', '--att-hidden', '16', '--fuse-dim', '16'];

export function ortTrain(args: string[]) {
  return spawnSync(process.execPath, ['bin/ort-train.js', ...args], { encoding: 'utf8' });
}
