// bench/gpu-bisect.ts — where in a training graph the WebGPU provider starts to differ from the
// CPU provider. Builds training_model lowered for WebGPU, makes every float tensor a node produces
// a graph output (in chunks of at most --chunk-mb, each a run of its own), runs the same graph
// with the same feeds on both providers, and lists per node the relative L2 of its output next
// to the worst of its inputs'. The first node whose error jumps while its inputs agree is where a
// difference enters; kink flips (a ReLU active on one provider only, a max-pool gradient mask
// that differs) are counted, since a rounding across a kink moves a gradient by a whole routed
// element (docs/training.md, "WebGPU"). --dump writes a node's inputs and outputs under
// out/bisect/ for bench/gpu-repro.ts; --repeat runs WebGPU twice (a race shows as a difference);
// --against nudged compares with the CPU on one-ulp-nudged values instead (rounding's own reach).
//   VK_DRIVER_FILES=… LD_LIBRARY_PATH=… nice -n 19 npx tsx bench/gpu-bisect.ts --preset narrow224
import { mkdirSync, writeFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { topoSort, type Node, type Value } from '../graph/core/ir.ts';
import { serialize } from '../graph/core/serialize.ts';
import { trainingModel } from '../graph/training/graphs.ts';
import { DEFAULT_OPTIMIZER } from '../graph/training/optimizers.ts';
import { runOnce } from '../runtime/execution.ts';
import { rng } from '../runtime/random.ts';
import { assertProviderUsable } from '../tools/train/probe-provider.ts';
import { GPU_PRESETS, oneUlp } from './gpu-presets.ts';
import { difference } from '../tools/metrics/difference.ts';

const argv = await yargs(hideBin(process.argv))
  .option('preset', { choices: Object.keys(GPU_PRESETS), default: 'narrow224' })
  .option('batch', { type: 'number', describe: "default: the preset's" })
  .option('chunk-mb', { type: 'number', default: 4096, describe: 'most bytes of exposed tensors per run' })
  .option('repeat', { type: 'boolean', default: false, describe: 'run WebGPU twice and compare the runs' })
  .option('top', { type: 'number', default: 25, describe: 'how many of the largest jumps to list' })
  .option('dump', { type: 'string', describe: "node names, comma-separated: write each one's inputs and outputs (CPU, and WebGPU where exposed) under out/bisect/<node>/" })
  .option('max-tensor-mb', { type: 'number', describe: 'expose no tensor larger than this (the unfolded dW copies at 224² are 77–308 MB)' })
  .option('against', { choices: ['webgpu', 'nudged'] as const, default: 'webgpu' as const, describe: 'nudged: instead of WebGPU, the CPU provider with the image and every parameter moved by one ulp in a random direction (how far a rounding-sized change moves each tensor)' })
  .option('json', { type: 'string', describe: 'write every node row to this file' })
  .strict()
  .parseAsync();
if (argv.against === 'webgpu') assertProviderUsable('webgpu');

const cfg = GPU_PRESETS[argv.preset].model;
const N = argv.batch ?? GPU_PRESETS[argv.preset].batch;
const spec = trainingModel({ config: cfg, loss: 'wmse', optimizer: DEFAULT_OPTIMIZER, ep: 'webgpu' });
const nodes = topoSort(spec.outputs);
// Name every node output that some node (or the graph) reads, so it can be a graph output.
const read = new Set<Value>(spec.outputs);
for (const n of nodes) for (const v of n.inputs) if (v) read.add(v);
const nodeName = new Map<Node, string>();
nodes.forEach((n, i) => {
  nodeName.set(n, `${n.scope ? `${n.scope}/` : ''}${n.op}_${i}`);
  n.outputs.forEach((v, k) => {
    if (read.has(v) && !v.name) v.named(`bisect_${i}_${k}`);
  });
});
const bytes = (v: Value) => 4 * v.shape.reduce<number>((a, d) => a * (typeof d === 'number' ? d : N), 1);
const small = (v: Value) => argv['max-tensor-mb'] === undefined || bytes(v) <= argv['max-tensor-mb'] * 2 ** 20;
const exposed = nodes.flatMap((n) => n.outputs.filter((v) => read.has(v) && v.dtype === 'float32' && !spec.outputs.includes(v) && small(v)));
const chunks: Value[][] = [[]];
let used = 0;
for (const v of exposed) {
  if (used + bytes(v) > argv['chunk-mb'] * 2 ** 20 && chunks[chunks.length - 1].length) [chunks[chunks.length], used] = [[], 0];
  chunks[chunks.length - 1].push(v);
  used += bytes(v);
}

const r = rng(1);
const rand = (n: number, scale = 1) => Float32Array.from({ length: n }, () => (2 * r() - 1) * scale);
const feeds: Record<string, ort.Tensor> = {};
for (const v of spec.inputs) {
  const shape = v.shape.map((d) => (typeof d === 'number' ? d : N));
  const n = shape.reduce((a, b) => a * b, 1);
  let data: Float32Array;
  if (v.name === 'image') data = rand(n);
  else if (v.name === 'aux') data = rand(n, 0.1);
  else if (v.name === 'target') data = rand(n, 0.05).map(Math.abs);
  else if (v.name === 'weight') data = new Float32Array(n).fill(1);
  else if (v.name!.startsWith('dropout_mask')) data = new Float32Array(n).fill(1);
  else throw new Error(`gpu-bisect: no feed for input ${v.name}`);
  feeds[v.name!] = new ort.Tensor('float32', data, shape);
}
for (const p of spec.paramOrder!) feeds[p.name!] = new ort.Tensor('float32', p.data as Float32Array, p.shape as number[]);

const nudged: Record<string, ort.Tensor> = { ...feeds };
if (argv.against === 'nudged') {
  const flip = rng(7);
  for (const name of ['image', ...spec.paramOrder!.map((p) => p.name!)]) {
    const data = Float32Array.from(feeds[name].data as Float32Array);
    oneUlp(data, flip);
    nudged[name] = new ort.Tensor('float32', data, feeds[name].dims);
  }
}

async function runOn(ep: 'cpu' | 'webgpu', outputs: Value[], with_ = feeds): Promise<Map<string, Float32Array>> {
  const model = serialize({ ...spec, outputs: [...spec.outputs, ...outputs] });
  return (await runOnce(model, `bisect ${ep}`, ep, with_)).outputs as Map<string, Float32Array>;
}
const rel = (a: Float32Array, b: Float32Array) => difference(a, b).rel;

const err = new Map<string, number>();
// Kinks: positions where a ReLU is active on one provider and not on the other, and where a
// max-pool gradient's tie mask (Cast of Equal) differs — a rounding difference across a kink
// changes the gradient by the whole routed value, not by a rounding.
const kinkOps = new Set(nodes.filter((n) => n.op === 'Relu' || (n.op === 'Cast' && n.inputs[0]?.dtype === 'bool')).map((n) => n.outputs[0].name!));
const flips = new Map<string, number>();
const repeatErr = new Map<string, number>();
const t0 = performance.now();
for (const [ci, chunk] of chunks.entries()) {
  const cpu = await runOn('cpu', chunk);
  const other = () => (argv.against === 'nudged' ? runOn('cpu', chunk, nudged) : runOn('webgpu', chunk));
  const gpu = await other();
  const again = argv.repeat ? await other() : null;
  for (const [k, c] of cpu) {
    err.set(k, rel(c, gpu.get(k)!));
    if (kinkOps.has(k)) {
      const g = gpu.get(k)!;
      let f = 0;
      for (let i = 0; i < c.length; i++) if (c[i] > 0 !== g[i] > 0) f++;
      flips.set(k, f);
    }
    if (again) repeatErr.set(k, rel(gpu.get(k)!, again.get(k)!));
  }
  if (argv.dump) for (const name of argv.dump.split(',')) dump(name, cpu, gpu);
  console.error(`chunk ${ci + 1}/${chunks.length}: ${chunk.length} tensors, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}

function dump(name: string, cpu: Map<string, Float32Array>, gpu: Map<string, Float32Array>) {
  const node = nodes.find((n) => nodeName.get(n) === name);
  if (!node) throw new Error(`--dump: no node named ${name}`);
  const tensors = [...node.inputs, ...node.outputs].filter((v): v is Value => !!v && !!v.name);
  const dir = `out/bisect/${name.replace(/[^\w.-]+/g, '_')}`;
  mkdirSync(dir, { recursive: true });
  const files: Record<string, { file: string; shape: number[]; dtype: string }> = {};
  for (const [i, v] of tensors.entries()) {
    const data = v.kind === 'const' || v.kind === 'param' ? (feeds[v.name!]?.data ?? v.data) : (cpu.get(v.name!) ?? feeds[v.name!]?.data);
    if (!data) continue;
    const file = `${dir}/${i}.bin`;
    const buf = data as Float32Array | BigInt64Array;
    writeFileSync(file, new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength));
    files[v.name!] = { file, shape: v.shape.map((d) => (typeof d === 'number' ? d : N)), dtype: v.dtype };
    const g = gpu.get(v.name!);
    if (g) writeFileSync(`${dir}/${i}.gpu.bin`, new Uint8Array(g.buffer, g.byteOffset, g.byteLength));
  }
  writeFileSync(`${dir}/node.json`, JSON.stringify({ op: node.op, attrs: attrsOf(node), inputs: node.inputs.map((v) => v?.name ?? ''), outputs: node.outputs.map((v) => v.name ?? ''), files }, null, 1));
}
function attrsOf(n: Node) {
  return Object.fromEntries(Object.entries(n.attrs).map(([k, a]) => [k, typeof a === 'object' && a !== null && !Array.isArray(a) ? `<${(a as Value).name}>` : a]));
}

const shapeOf = (v: Value) => `[${v.shape.map((d) => (typeof d === 'number' ? d : N)).join(',')}]`;
const rows = nodes.map((n) => {
  const measured = n.outputs.filter((v) => err.has(v.name ?? ''));
  const outErr = measured.length ? Math.max(...measured.map((v) => err.get(v.name!)!)) : NaN;
  const ins = n.inputs.filter((v): v is Value => !!v?.producer);
  // An input that was not exposed (too big, or not float) counts as unknown: NaN.
  const inErr = Math.max(0, ...ins.map((v) => (v.dtype === 'float32' ? (err.get(v.name!) ?? NaN) : 0)));
  const rep = Math.max(0, ...n.outputs.map((v) => repeatErr.get(v.name ?? '') ?? 0));
  return { node: nodeName.get(n)!, op: n.op, attrs: attrsOf(n), inputs: n.inputs.map((v) => (v ? `${v.kind === 'node' ? '' : `${v.kind}:`}${shapeOf(v)}` : '')), out: outErr, in: inErr, jump: outErr / Math.max(inErr, 1e-7), ...(flips.has(n.outputs[0].name ?? '') ? { flips: flips.get(n.outputs[0].name!) } : {}), ...(argv.repeat ? { repeat: rep } : {}) };
});
if (argv.json) writeFileSync(argv.json, JSON.stringify(rows));
const fmt = (x: number) => x.toExponential(1);
console.log(`${argv.preset} batch ${N}: ${nodes.length} nodes, ${exposed.length} exposed tensors in ${chunks.length} run(s), ${((performance.now() - t0) / 1000).toFixed(0)} s`);
console.log('graph outputs:', spec.outputs.map((v) => `${v.name} ${fmt(err.get(v.name!) ?? NaN)}`).join(', '));
if (argv.repeat) console.log(`webgpu run vs itself: worst ${fmt(Math.max(0, ...repeatErr.values()))}`);
const kinks = rows.filter((x) => x.flips);
console.log(`kink flips (positions active on one provider only): ${kinks.map((x) => `${x.node} ${x.flips}`).join(', ') || 'none'}`);
const first = rows.find((x) => x.out > 1e-4 && x.jump > 10);
console.log(`first node whose error jumps (>10× its inputs', above 1e-4): ${first ? `${first.node} out ${fmt(first.out)} in ${fmt(first.in)}` : 'none'}`);
console.log(`largest jumps (out/in, where out > 1e-5):`);
for (const row of rows.filter((x) => x.out > 1e-5).sort((a, b) => (b.jump || 0) - (a.jump || 0)).slice(0, argv.top)) {
  console.log(`  ${fmt(row.jump)}× ${row.node}: out ${fmt(row.out)} in ${fmt(row.in)}  ${JSON.stringify(row.attrs)} ${row.inputs.join(' ')}`);
}
