// The builder keeps its state to itself: graphs built one after another share no names or scopes,
// op builders leave their arguments alone, and a graph's gradient rules can be swapped for its
// own build only.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { gradients } from '../../graph/autodiff/gradients.ts';
import { inferenceSpec } from '../../graph/export/inference.ts';
import { constant, constF32, constI64, input, topoSort, type Attrs } from '../../graph/core/ir.ts';
import { buildModel } from '../../graph/models/m2fn.ts';
import { apply1, build, GraphBuilder, mul, reduceSum, reshape, scoped, tanh } from '../../graph/ops/index.ts';
import { currentScope } from '../../graph/core/builder.ts';
import { serialize, toModelProto } from '../../graph/core/serialize.ts';
import { smallConfig } from './helpers.ts';

test('model A, then B, then A again: both A graphs are the same bytes', () => {
  const a = smallConfig('m2fn');
  const b = smallConfig('nima', { output: 'distribution', size: 64 });
  const bytes = (cfg: typeof a) => Buffer.from(serialize(inferenceSpec(buildModel(cfg), { attention: true })));
  const first = bytes(a);
  const other = bytes(b);
  const again = bytes(a);
  assert.ok(first.equals(again), 'A built twice gives identical bytes');
  assert.not.ok(first.equals(other), 'B is another graph');
});

test('apply does not modify the attributes it is given', () => {
  const x = input('x', 'float32', [2, 3]);
  const w = input('w', 'float32', [4, 3]);
  const attrs: Attrs = { transA: undefined, transB: 1 };
  const y = apply1('Gemm', [x, w, null], attrs);
  assert.equal(Object.keys(attrs), ['transA', 'transB'], 'the caller keeps its undefined key');
  assert.equal(y.producer!.attrs, { transB: 1 });
});

test('scopes belong to the build and unwind after it, also when it throws', () => {
  const x = input('x', 'float32', [2]);
  const y = scoped('outer', () => scoped('inner', () => tanh(x)));
  assert.is(y.producer!.scope, 'outer/inner');
  assert.is(currentScope(), '');
  assert.throws(() => scoped('broken', () => apply1('Gemm', [x, x, null])), /Gemm in broken/);
  assert.is(currentScope(), '');
  assert.is(tanh(x).producer!.scope, '');
});

test('a builder’s gradient rule applies to its own build only', () => {
  const x = input('x', 'float32', [3]);
  const wrong = new GraphBuilder({ gradRules: { Tanh: ({ dy }) => [mul(dy[0]!, constF32(7))] } });
  // The registered rule is dy · (1 − y²): a Sub; the override has none.
  const gradientOps = (b?: GraphBuilder) =>
    build(() => topoSort([gradients(reduceSum(tanh(x), [0], false), [x]).get(x)!]).map((n) => n.op), b);
  assert.not.ok(gradientOps(wrong).includes('Sub'), 'the overriding builder emits its own rule');
  assert.ok(gradientOps().includes('Sub'), 'outside it, the registered rule');
  assert.ok(gradientOps(new GraphBuilder()).includes('Sub'), 'a new builder has the registered rule');
});

test('constants are named after what they are, in the scope of their first use, once per graph', () => {
  const x = input('x', 'float32', ['N', 2, 3]);
  const y = scoped('a', () => mul(reshape(reshape(x, [0, -1]), [0, -1]), constF32(0.1)));
  const names = (toModelProto({ name: 'g', inputs: [x], outputs: [y.named('y')] }).graph!.initializer as { name: string }[]).map((t) => t.name);
  assert.equal(names, ['a/shape_[0,-1]', 'a/shape_[0,-1]#2', 'a/f32_0.1']);
  assert.is(constant('float32', [3, 4], new Float32Array(12)).name, 'f32_3x4');
  assert.is(constant('float32', [3, 4], new Float32Array(12), 'pick').name, 'pick');
  assert.is(constI64([2, 3], undefined, 'axes').name, 'axes_[2,3]');
});

test.run();
