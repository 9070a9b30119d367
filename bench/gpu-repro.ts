// npx tsx bench/gpu-repro.ts out/bisect/<node> [--at i,j,…] — a single-op repro of a node that
// bench/gpu-bisect.ts --dump wrote: the op alone, fed the CPU run's inputs, on the CPU and the WebGPU
// provider. Prints the relative L2 difference of its output, and the values at the given flat
// output positions. If the op agrees here but not inside the graph, the difference came in with
// its inputs (the WebGPU run's own, rounded differently), not from the op.
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { apply, apply1 } from '../graph/core/builder.ts';
import { input, param, type Value } from '../graph/core/ir.ts';
import { serialize } from '../graph/core/serialize.ts';
import '../graph/ops/index.ts';
import { runOnce } from '../runtime/execution.ts';
import { difference } from '../tools/metrics/difference.ts';
import { assertProviderUsable } from '../tools/train/probe-provider.ts';

const argv = await yargs(hideBin(process.argv))
  .command('$0 <dir>', 'a folder written by gpu-bisect --dump')
  .positional('dir', { type: 'string', demandOption: true })
  .option('at', { type: 'string', describe: 'flat output positions to print, comma-separated' })
  .strict()
  .parseAsync();
assertProviderUsable('webgpu');

interface Dumped { op: string; attrs: Record<string, unknown>; inputs: string[]; outputs: string[]; files: Record<string, { file: string; shape: number[]; dtype: string }> }
const node = JSON.parse(readFileSync(`${argv.dir}/node.json`, 'utf8')) as Dumped;
const read = (file: string, dtype: string) => {
  const b = readFileSync(file);
  const bytes = b.buffer.slice(b.byteOffset, b.byteOffset + b.length);
  return dtype === 'int64' ? new BigInt64Array(bytes) : new Float32Array(bytes);
};
const feeds: Record<string, ort.Tensor> = {};
const ins: (Value | null)[] = node.inputs.map((name, i) => {
  if (!name) return null;
  const f = node.files[name];
  if (!f) throw new Error(`${argv.dir}: input ${name} was not dumped (a bool or int tensor?)`);
  const data = read(f.file, f.dtype);
  if (f.dtype !== 'float32') return param(`in${i}`, f.shape, data as never);
  feeds[`in${i}`] = new ort.Tensor('float32', data as Float32Array, f.shape);
  return input(`in${i}`, 'float32', f.shape);
});
const attrs = Object.fromEntries(Object.entries(node.attrs).filter(([, v]) => v !== undefined && v !== null)) as Record<string, number | number[] | string>;
// A bool output (Equal, Greater) comes back as 0/1 floats.
const outs = apply(node.op, ins, attrs).map((v, k) => (v.dtype === 'bool' ? apply1('Cast', [v], { to: 1 }) : v).named(`out${k}`)).filter((v) => v.dtype === 'float32');
const model = serialize({ name: `repro_${node.op}`, inputs: ins.filter((v): v is Value => v?.kind === 'input'), outputs: outs });

const runOn = async (ep: 'cpu' | 'webgpu') => Object.fromEntries((await runOnce(model, `repro ${node.op}`, ep, feeds)).outputs) as Record<string, Float32Array>;
const [cpu, gpu] = [await runOn('cpu'), await runOn('webgpu')];
const at = argv.at ? argv.at.split(',').map(Number) : [];
for (const k of Object.keys(cpu)) {
  const [c, g] = [cpu[k], gpu[k]];
  let diffs = 0;
  for (let i = 0; i < c.length; i++) if (c[i] !== g[i]) diffs++;
  console.log(`${node.op} ${k}: relative L2 ${difference(c, g).rel.toExponential(2)}, ${diffs} of ${c.length} elements differ`);
  for (const i of at) console.log(`  [${i}] cpu ${c[i]} webgpu ${g[i]}`);
}
