// SwiftShader child of ops.test.ts: every OP_CASES graph on both providers; prints one JSON line.
import * as ort from 'onnxruntime-node';
import { serialize } from '../../graph/core/serialize.ts';
import { randomArray } from '../graph/helpers.ts';
import { compareProviders, type Diff } from './compare.ts';
import { isMain } from './harness.ts';
import { OP_CASES } from './op-cases.ts';

async function main() {
  const results: Record<string, Record<string, Diff>> = {};
  for (const [i, c] of OP_CASES.entries()) {
    const s = c.build();
    const feeds: Record<string, ort.Tensor> = {};
    s.inputs.forEach((v, k) => {
      const shape = v.shape as number[];
      feeds[v.name!] = new ort.Tensor('float32', randomArray(shape.reduce((a, b) => a * b, 1), 100 * i + k), shape);
    });
    const bytes = serialize(s);
    results[c.name] = await compareProviders(bytes, bytes, c.name, feeds);
  }
  console.log(JSON.stringify(results));
}

if (isMain(import.meta.url)) await main();
