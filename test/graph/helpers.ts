// Shared by the graph tests: small configs, ORT runs, the ONNX checker, float comparison.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { defaultConfig, configAuxDim, crossedColumns, type ModelConfig, type ModelKind } from '../../graph/models/config.ts';
import type { Value } from '../../graph/core/ir.ts';
import type { BuiltModel } from '../../graph/models/m2fn.ts';
import { rng } from '../../runtime/random.ts';
import { serialize, type GraphSpec } from '../../graph/core/serialize.ts';
import type { ReferenceConfig } from '../reference/m2fn.ts';

export const tmp = (prefix: string) => mkdtempSync(join(tmpdir(), `m2fn-${prefix}-`));

export function smallConfig(model: ModelKind = 'm2fn', over: Partial<ModelConfig> = {}): ModelConfig {
  return { ...defaultConfig(model), size: 32, width: 0.125, cbnHidden: 6, attHidden: 5, fuseDim: 7, headHidden: [9, 4], ...over };
}

export function randomArray(n: number, seed: number, scale = 1): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => (2 * r() - 1) * scale);
}

/**
 * Random feeds for a training graph's batch inputs with N rows: positive impression weights,
 * target rows that are distributions when the target has 10 buckets, dropout masks of 0 or 2.
 */
export function batchFeeds(inputs: Value[], N: number, seed: number): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  inputs.forEach((v, i) => {
    const shape = v.shape.map((d) => (typeof d === 'number' ? d : N));
    const n = shape.reduce((a, b) => a * b, 1);
    let data = randomArray(n, seed + i);
    if (v.name === 'weight') data = data.map((x) => 0.5 + Math.abs(x));
    if (v.name === 'target' && shape[1] === 10) {
      // a distribution per row
      for (let r = 0; r < N; r++) {
        const row = data.subarray(r * 10, r * 10 + 10).map(Math.abs);
        const s = row.reduce((a, b) => a + b);
        data.set(row.map((x) => x / s), r * 10);
      }
    }
    if (v.name!.startsWith('dropout_mask')) data = data.map((x) => (x > 0 ? 2 : 0));
    feeds[v.name!] = new ort.Tensor('float32', data, shape);
  });
  return feeds;
}

/**
 * Gives every parameter random values of a variance-preserving size (He-uniform for weights), so
 * no term is trivially zero and activations neither vanish nor explode through the backbone.
 */
export function randomizeParams(m: BuiltModel, seed: number): void {
  let k = seed;
  for (const [name, v] of m.params.values) {
    const data = v.data as Float32Array;
    const fanIn = v.rank > 1 ? data.length / (v.shape[0] as number) : 0;
    const scale = fanIn ? Math.sqrt(6 / fanIn) : 0.2;
    const r = randomArray(data.length, k++, scale);
    if (name.endsWith('running_var')) r.forEach((x, i) => (r[i] = 0.5 + Math.abs(x)));
    if (name.endsWith('gamma')) r.forEach((x, i) => (r[i] = 1 + x));
    // Positive biases keep tiny random ReLU nets from dying on some samples.
    if (name.endsWith('.bias')) r.forEach((x, i) => (r[i] = 0.1 + Math.abs(x)));
    data.set(r);
  }
}

export async function run(spec: GraphSpec, feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
  const s = await ort.InferenceSession.create(serialize(spec));
  try {
    return await s.run(feeds);
  } finally {
    await s.release();
  }
}

export function modelFeeds(m: BuiltModel, N: number, seed: number) {
  const { size } = m.config;
  const image = randomArray(N * 3 * size * size, seed);
  const D = configAuxDim(m.config);
  const aux = m.aux ? randomArray(N * D, seed + 1) : null;
  const feeds: Record<string, ort.Tensor> = { image: new ort.Tensor('float32', image, [N, 3, size, size]) };
  if (aux) feeds.aux = new ort.Tensor('float32', aux, [N, D]);
  return { image, aux, feeds };
}

export function referenceConfig(cfg: ModelConfig): ReferenceConfig {
  return { ...cfg, auxDim: configAuxDim(cfg), crossColumns: cfg.auxCross > 0 ? crossedColumns(cfg) : undefined };
}

export function paramMap(m: BuiltModel): Map<string, Float32Array> {
  return new Map([...m.params.values].map(([k, v]) => [k, v.data as Float32Array]));
}

/** max |a − b| relative to max |b|. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let d = 0;
  let s = 1e-12;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    s = Math.max(s, Math.abs(b[i]));
  }
  return d / s;
}

/** Full ONNX check (with shape inference) by the onnx Python package; throws with its message. */
export function onnxCheck(paths: string[]): void {
  const code = [
    'import sys, onnx',
    'for p in sys.argv[1:]:',
    '    onnx.checker.check_model(onnx.load(p), full_check=True)',
    'print("ok", len(sys.argv) - 1)',
  ].join('\n');
  const r = spawnSync('/usr/bin/python3', ['-c', code, ...paths], { encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(`ONNX checker failed (python3-onnx from Debian is required; .ci/run installs it):\n${r.stderr || r.error}`);
  }
}
