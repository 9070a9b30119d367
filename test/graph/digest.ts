// The graphs whose bytes are pinned (inference-digest.test.ts), and their canonical digest: the
// sha256 of the serialised model after every constant initializer is renamed to `c<k>`, k its
// order of first use. Constant names are free to change; nothing else is.
import { createHash } from 'node:crypto';
import onnxProto from 'onnx-proto';
import { explainGraph } from '../../graph/export/explain.ts';
import { inferenceSpec } from '../../graph/export/inference.ts';
import { buildModel } from '../../graph/models/m2fn.ts';
import { isBackboneParam } from '../../graph/models/modules.ts';
import { serialize } from '../../graph/core/serialize.ts';
import { evalModel, optimizerModel, trainingModel, trainStep, type TrainingSetup } from '../../graph/training/graphs.ts';
import { DEFAULT_OPTIMIZER } from '../../graph/training/optimizers.ts';
import { configFromArgs } from '../../tools/model-options.ts';
import { base, matrix } from './build-matrix.ts';

const { onnx } = onnxProto;

export const DIGESTS = new URL('./inference-digests.json', import.meta.url);

export interface PinnedGraph {
  key: string;
  bytes: Uint8Array;
  /** Names of the parameters, the initializers that keep their names. */
  params: Set<string>;
}

/** Every build-matrix config's inference.onnx (with attention, as the build CLI writes it) and
 * explain graph, and the training artifact set of a few configs that cover both optimizers, every
 * loss family, the WebGPU lowering and a frozen backbone. */
export function* pinnedGraphs(): Generator<PinnedGraph> {
  for (const [label, over] of matrix) {
    const m = buildModel(configFromArgs({ ...base, ...over }));
    const params = new Set(m.params.values.keys());
    yield { key: `inference: ${label}`, bytes: serialize(inferenceSpec(m, { attention: true })), params };
    yield { key: `explain: ${label}`, bytes: serialize(explainGraph(m).spec), params };
  }
  const setups: [string, TrainingSetup][] = [
    ['m2fn wmse adamw cpu', { config: configFromArgs(base), loss: 'wmse', optimizer: DEFAULT_OPTIMIZER, ep: 'cpu' }],
    ['nima emd sgd webgpu', { config: configFromArgs({ ...base, model: 'nima', output: 'distribution' }), loss: 'emd', optimizer: { ...DEFAULT_OPTIMIZER, kind: 'sgd', clipNorm: 0 }, ep: 'webgpu' }],
    ['m2fn kld batch norm, frozen backbone', {
      config: { ...configFromArgs({ ...base, output: 'distribution', 'backbone-norm': 'batch', dropout: 0.5 }), bnMomentum: 0.2 }, loss: 'kld', optimizer: DEFAULT_OPTIMIZER, ep: 'cpu',
      frozen: isBackboneParam,
    }],
  ];
  for (const [label, s] of setups) {
    for (const [kind, make] of [['train_step', trainStep], ['training_model', trainingModel], ['eval_model', evalModel], ['optimizer_model', optimizerModel]] as const) {
      yield { key: `${kind}: ${label}`, bytes: serialize(make(s)), params: new Set() };
    }
  }
}

type ModelProto = ReturnType<typeof onnx.ModelProto.decode>;

export const decode = (bytes: Uint8Array): ModelProto => onnx.ModelProto.decode(bytes);

/** sha256 of the model with its constant initializers renamed in order of first use. */
export function canonicalDigest(model: ModelProto | Uint8Array, params: Set<string>): string {
  const m = model instanceof Uint8Array ? decode(model) : onnx.ModelProto.decode(onnx.ModelProto.encode(model).finish());
  const g = m.graph as any;
  const constants = new Set<string>(g.initializer.map((t: any) => t.name).filter((n: string) => !params.has(n)));
  const renamed = new Map<string, string>();
  for (const node of g.node) {
    node.input = node.input.map((name: string) => {
      if (!constants.has(name)) return name;
      if (!renamed.has(name)) renamed.set(name, `c${renamed.size}`);
      return renamed.get(name)!;
    });
  }
  for (const t of g.initializer) if (constants.has(t.name)) t.name = renamed.get(t.name) ?? t.name;
  return createHash('sha256').update(onnx.ModelProto.encode(m).finish()).digest('hex');
}
