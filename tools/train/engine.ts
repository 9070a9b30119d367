// The training engine: ONNX Runtime sessions over the emitted training graphs, with parameters,
// optimizer state and running statistics fed in and taken back each step.
// - cpu, fused: two sets of host buffers that swap each step (outputs are written into
//   pre-allocated tensors, so no parameter-sized buffer is allocated per step).
// - cpu, split: one set. The training model writes the gradients into a host buffer, then the
//   optimizer runs over each parameter in slices (`optimizer_slice`), each slice's result copied
//   back over its inputs: parameters and optimizer state are held once, not in and out of one run.
// - webgpu: device-resident. The step's outputs stay on the GPU ('gpu-buffer') and are fed back as
//   the next step's inputs; only the batch goes up and the loss comes down. Values reach the host
//   only through `values()`, which runs a CPU-output copy session — never getData() on a GPU
//   tensor, which aborts the process (ARCHITECTURE.md §4).
// `lastStep` reports the bytes each step moved host↔device, read from the tensors' locations.
// The graphs come from an M2FN training setup (`setupGraphs`) or ready built (the MLP baseline's).
import * as ort from 'onnxruntime-node';
import { input, type Value } from '../../graph/core/ir.ts';
import { identity } from '../../graph/ops/elementwise.ts';
import { serialize, type GraphSpec } from '../../graph/core/serialize.ts';
import { evalModel, gradName, newName, optimizerModel, SLICE, sliceOptimizerModel, trainingModel, trainStep, updatedTensor, type TrainingSetup } from '../../graph/training/graphs.ts';
import { decaysShape, GRAD_SCALE } from '../../graph/training/optimizers.ts';
import type { ParamStore } from '../../graph/core/params.ts';
import { openSession, type ExecutionProvider } from '../../runtime/execution.ts';

export type StepMode = 'fused' | 'split';

export interface Batch {
  n: number;
  /** Tensors by input name: image, aux, target, weight, dropout masks. */
  feeds: Record<string, ort.Tensor>;
}

/**
 * What an engine runs. `step` is the fused step (params as inputs; batch inputs, optimizer
 * states, lr, step → loss, then `<tensor>_new` for every tensor it updates); `eval` maps a batch to
 * [loss, prediction] without updating anything (an engine without it cannot `evaluate`); `split`
 * is the training model and optimizer pair of mode 'split'.
 */
export interface EngineGraphs {
  step: GraphSpec & { states: Value[] };
  /** The parameters the optimizer updates. */
  trainables: string[];
  eval?: GraphSpec;
  split?: { training: GraphSpec; optimizer: GraphSpec } | { training: GraphSpec; slice: GraphSpec };
}

/**
 * The graphs of an M2FN training setup; the split pair only for mode 'split': the whole
 * optimizer_model where the values stay on a device (`resident`), else the slice optimizer.
 */
export function setupGraphs(setup: TrainingSetup, mode: StepMode, resident: boolean, from?: ParamStore): EngineGraphs {
  const step = trainStep(setup, { paramsFrom: from });
  const paramsFrom = from ?? step.model.params; // one set of initial weight arrays for every graph
  const split = mode !== 'split' ? undefined
    : resident ? { training: trainingModel(setup, { paramsFrom }), optimizer: optimizerModel(setup, { paramsFrom }) }
    : { training: trainingModel(setup, { gradScale: true, paramsFrom }), slice: sliceOptimizerModel(setup) };
  return {
    step,
    trainables: step.model.params.trainable.filter((p) => !setup.frozen?.(p.name!)).map((p) => p.name!),
    eval: evalModel(setup, { paramsFrom }),
    split,
  };
}

export type EngineOptions = ({ setup: TrainingSetup } | { graphs: EngineGraphs }) & {
  mode: StepMode;
  ep: ExecutionProvider;
  threads?: number;
  /** Initial values of every parameter, statistic and optimizer state, by name (missing state → zeros). */
  initial: Map<string, Float32Array>;
  /**
   * Weight arrays to build the graphs over (buildModel's paramsFrom) instead of new ones: a
   * parameter with no `initial` value starts from its array, and is then updated in it.
   */
  paramsFrom?: ParamStore;
  /** ONNX Runtime's memory pattern for the engine's sessions (default off: runtime/execution.ts). */
  memoryPattern?: boolean;
  /** Elements per run of the slice optimizer (cpu, mode 'split'); default 2²⁰. */
  sliceElements?: number;
};

const SLICE_ELEMENTS = 2 ** 20;

/** Bytes one step copied host → device (`up`) and device → host (`down`). */
export interface StepTraffic {
  up: number;
  down: number;
}

interface Slot {
  name: string;
  shape: number[];
  cur: Float32Array;
  next: Float32Array;
  /** Device-resident engines: the current value, a host tensor until the first step replaces it. */
  dev: ort.Tensor | null;
}

const ELEMENT_BYTES: Partial<Record<ort.Tensor.Type, number>> = { float32: 4, int64: 8, int32: 4, bool: 1, uint8: 1 };

/** Bytes of the host tensors among `ts` (a device tensor's bytes never cross). */
function hostBytes(ts: Iterable<ort.Tensor>): number {
  let n = 0;
  for (const t of ts) if (t.location === 'cpu') n += t.size * (ELEMENT_BYTES[t.type] ?? 4);
  return n;
}

/** Providers whose outputs can stay on the device between runs from onnxruntime-node. */
const RESIDENT: ReadonlySet<ExecutionProvider> = new Set(['webgpu']);

export class TrainEngine {
  readonly slots = new Map<string, Slot>();
  /** Host↔device bytes of the last step (cpu: 0 both ways — nothing leaves the host). */
  lastStep: StepTraffic = { up: 0, down: 0 };
  private constructor(
    private readonly step_: ort.InferenceSession,
    private readonly optimizer: ort.InferenceSession | null,
    private readonly slicer: InPlaceOptimizer | null,
    private readonly evaluator: ort.InferenceSession | null,
    /** Device-resident engines: an identity graph over every slot with outputs on the host. */
    private readonly hostCopy: ort.InferenceSession | null,
    /** Names updated by the train step (fused) or the training model + optimizer (split). */
    private readonly updated: string[],
    private readonly trainables: string[],
    private readonly grads: Map<string, Float32Array>,
    private readonly evalInputs: string[],
    private readonly stepInputs: string[],
    readonly predictionName: string | null,
    /** Optimizer state tensors: fed to the optimizer only, never to the model graphs. */
    private readonly states: Set<string>,
    readonly ep: ExecutionProvider,
  ) {}

  static async create(o: EngineOptions): Promise<TrainEngine> {
    const resident = RESIDENT.has(o.ep);
    // Sessions opened so far are released if a later one fails: a WebGPU session still alive at
    // process exit aborts the process.
    const opened: ort.InferenceSession[] = [];
    const open = async (spec: GraphSpec, what: string, hostOutputs: string[] | 'all') => {
      const outputLocation = !resident || hostOutputs === 'all' ? undefined
        : Object.fromEntries(spec.outputs.map((v) => [v.name!, hostOutputs.includes(v.name!) ? ('cpu' as const) : ('gpu-buffer' as const)]));
      try {
        const s = (await openSession(serialize(spec), what, { ep: o.ep, threads: o.threads, fallback: false, outputLocation, memoryPattern: o.memoryPattern ?? false })).session;
        opened.push(s);
        return s;
      } catch (e) {
        await Promise.all(opened.map((s) => s.release()));
        throw e;
      }
    };
    const graphs = 'graphs' in o ? o.graphs : setupGraphs(o.setup, o.mode, resident, o.paramsFrom);
    const fused = graphs.step;
    const trainables = graphs.trainables;
    const allTensors: Value[] = [...fused.paramOrder!, ...fused.states];
    const states = new Set(fused.states.map((v) => v.name!));
    const split = o.mode === 'split' ? graphs.split : undefined;
    const inPlace = split !== undefined && 'slice' in split;
    const slots = new Map<string, Slot>();
    for (const v of allTensors) {
      const shape = v.shape as number[];
      const size = shape.reduce((a, b) => a * b, 1);
      const given = o.initial.get(v.name!);
      const init = given ?? (v.kind === 'param' ? (v.data as Float32Array) : new Float32Array(size));
      if (init.length !== size) throw new Error(`initial value of ${v.name} has ${init.length} values, expected ${size} ([${shape}])`);
      // The caller's arrays are copied; the arrays of graphs the engine built itself are its own.
      const cur = given || 'graphs' in o ? Float32Array.from(init) : init;
      // Resident engines keep no second host buffer: the device holds the values; in-place
      // updates need none for the parameters and optimizer states.
      const single = resident || (inPlace && (trainables.includes(v.name!) || states.has(v.name!)));
      slots.set(v.name!, { name: v.name!, shape, cur, next: single ? cur : new Float32Array(size), dev: resident ? new ort.Tensor('float32', cur, shape) : null });
    }
    const updated = fused.outputs.slice(1).map((v) => updatedTensor(v.name!));
    const evaluator = graphs.eval ? await open(graphs.eval, 'eval_model', 'all') : null;
    const evalInputs = graphs.eval?.inputs.map((v) => v.name!) ?? [];
    const predictionName = graphs.eval ? graphs.eval.outputs[1].name! : null;
    const hostCopy = resident ? await open(hostCopySpec(allTensors), 'host_copy', 'all') : null;
    const make = (step: ort.InferenceSession, optimizer: ort.InferenceSession | null, slicer: InPlaceOptimizer | null, grads: Map<string, Float32Array>, stepInputs: string[]) => {
      const engine = new TrainEngine(step, optimizer, slicer, evaluator, hostCopy, updated, trainables, grads, evalInputs, stepInputs, predictionName, states, o.ep);
      slots.forEach((s, k) => engine.slots.set(k, s));
      return engine;
    };
    if (o.mode === 'fused') return make(await open(fused, 'train_step', ['loss']), null, null, new Map(), fused.inputs.map((v) => v.name!));
    if (!split) {
      await Promise.all(opened.map((s) => s.release()));
      throw new Error("TrainEngine: mode 'split' needs the graphs' split pair (training model and optimizer)");
    }
    const { training } = split;
    const grads = resident ? new Map<string, Float32Array>() : new Map(trainables.map((n) => [n, new Float32Array(slots.get(n)!.cur.length)]));
    const step = await open(training, 'training_model', ['loss']);
    const stepInputs = training.inputs.map((v) => v.name!);
    if ('slice' in split) {
      const slicer = new InPlaceOptimizer(await open(split.slice, 'optimizer_slice', 'all'), split.slice, o.sliceElements ?? SLICE_ELEMENTS);
      return make(step, null, slicer, grads, stepInputs);
    }
    return make(step, await open(split.optimizer, 'optimizer_model', []), null, grads, stepInputs);
  }

  private get resident(): boolean {
    return this.hostCopy !== null;
  }

  private tensor(name: string, which: 'cur' | 'next'): ort.Tensor {
    const s = this.slots.get(name)!;
    return s.dev ?? new ort.Tensor('float32', s[which], s.shape);
  }

  private paramFeeds(): Record<string, ort.Tensor> {
    const feeds: Record<string, ort.Tensor> = {};
    for (const name of this.slots.keys()) feeds[name] = this.tensor(name, 'cur');
    return feeds;
  }

  /** The feeds a model graph declares: its batch inputs plus every parameter and statistic. */
  private modelFeeds(feeds: Record<string, ort.Tensor>, batchInputs: string[]): Record<string, ort.Tensor> {
    const out: Record<string, ort.Tensor> = {};
    for (const name of batchInputs) if (feeds[name]) out[name] = feeds[name];
    for (const name of this.slots.keys()) if (!this.states.has(name)) out[name] = feeds[name];
    return out;
  }

  /** Device tensors take the place of a slot's value; the one replaced is freed. */
  private adopt(name: string, t: ort.Tensor): void {
    const s = this.slots.get(name)!;
    if (s.dev && s.dev.location !== 'cpu') s.dev.dispose();
    s.dev = t;
  }

  /** One optimisation step; returns the batch loss. */
  async step(batch: Batch, lr: number, step: number): Promise<number> {
    const scalars = { lr: new ort.Tensor('float32', Float32Array.of(lr), []), step: new ort.Tensor('float32', Float32Array.of(step), []) };
    const feeds = { ...this.paramFeeds(), ...batch.feeds };
    const traffic: StepTraffic = { up: 0, down: 0 };
    const run = async (session: ort.InferenceSession, f: Record<string, ort.Tensor>, fetches: string[] | Record<string, ort.Tensor | null>) => {
      const out = await session.run(f, fetches as ort.InferenceSession.FetchesType);
      if (this.resident) {
        traffic.up += hostBytes(Object.values(f));
        traffic.down += hostBytes(Object.values(out));
      }
      return out;
    };
    const stats = this.updated.filter((n) => !this.trainables.includes(n) && !this.states.has(n));
    let loss: number;
    if (this.resident) {
      if (!this.optimizer) {
        const out = await run(this.step_, { ...feeds, ...scalars }, ['loss', ...this.updated.map(newName)]);
        loss = (out.loss.data as Float32Array)[0];
        for (const name of this.updated) this.adopt(name, out[newName(name)]);
      } else {
        const out = await run(this.step_, this.modelFeeds(feeds, this.stepInputs), ['loss', ...this.trainables.map(gradName), ...stats.map(newName)]);
        loss = (out.loss.data as Float32Array)[0];
        const optFeeds: Record<string, ort.Tensor> = { ...scalars };
        for (const name of this.updated) if (!stats.includes(name)) optFeeds[name] = this.tensor(name, 'cur');
        for (const name of this.trainables) optFeeds[gradName(name)] = out[gradName(name)];
        const opt = await run(this.optimizer, optFeeds, this.updated.filter((n) => !stats.includes(n)).map(newName));
        for (const name of this.trainables) out[gradName(name)].dispose();
        for (const name of this.updated) this.adopt(name, stats.includes(name) ? out[newName(name)] : opt[newName(name)]);
      }
      this.lastStep = traffic;
      return loss;
    }
    if (this.slicer) {
      const fetches: Record<string, ort.Tensor | null> = { loss: null, [GRAD_SCALE]: null };
      for (const name of this.trainables) fetches[gradName(name)] = new ort.Tensor('float32', this.grads.get(name)!, this.slots.get(name)!.shape);
      for (const name of stats) fetches[newName(name)] = this.tensor(name, 'next');
      const out = await run(this.step_, this.modelFeeds(feeds, this.stepInputs), fetches);
      loss = (out.loss.data as Float32Array)[0];
      const stepScalars = { ...scalars, [GRAD_SCALE]: out[GRAD_SCALE] };
      for (const name of this.trainables) {
        const s = this.slots.get(name)!;
        await this.slicer.update(name, s.shape, this.grads.get(name)!, (n) => this.slots.get(n)!.cur, stepScalars);
      }
    } else if (!this.optimizer) {
      const fetches: Record<string, ort.Tensor | null> = { loss: null };
      for (const name of this.updated) fetches[newName(name)] = this.tensor(name, 'next');
      const out = await run(this.step_, { ...feeds, ...scalars }, fetches);
      loss = (out.loss.data as Float32Array)[0];
    } else {
      const fetches: Record<string, ort.Tensor | null> = { loss: null };
      for (const name of this.trainables) fetches[gradName(name)] = new ort.Tensor('float32', this.grads.get(name)!, this.slots.get(name)!.shape);
      for (const name of stats) fetches[newName(name)] = this.tensor(name, 'next');
      const out = await run(this.step_, this.modelFeeds(feeds, this.stepInputs), fetches);
      loss = (out.loss.data as Float32Array)[0];
      const optFeeds: Record<string, ort.Tensor> = { ...scalars };
      const optFetches: Record<string, ort.Tensor> = {};
      for (const name of this.updated) {
        if (stats.includes(name)) continue;
        optFeeds[name] = this.tensor(name, 'cur');
        optFetches[newName(name)] = this.tensor(name, 'next');
      }
      for (const name of this.trainables) optFeeds[gradName(name)] = fetches[gradName(name)]!;
      await run(this.optimizer, optFeeds, optFetches);
    }
    for (const name of this.updated) {
      const s = this.slots.get(name)!;
      [s.cur, s.next] = [s.next, s.cur];
    }
    this.lastStep = traffic;
    return loss;
  }

  /** Loss and predictions with running statistics (no update). */
  async evaluate(batch: Batch): Promise<{ loss: number; prediction: Float32Array }> {
    if (!this.evaluator || !this.predictionName) throw new Error('TrainEngine: this engine was opened without an eval graph');
    const out = await this.evaluator.run(this.modelFeeds({ ...this.paramFeeds(), ...batch.feeds }, this.evalInputs), ['loss', this.predictionName]);
    return { loss: (out.loss.data as Float32Array)[0], prediction: out[this.predictionName].data as Float32Array };
  }

  /**
   * Current values by name, on the host. cpu: views of the engine's buffers (copy before the next
   * step if kept); webgpu: fresh copies, downloaded through the host-copy session.
   */
  async values(): Promise<Map<string, { shape: number[]; data: Float32Array }>> {
    if (this.hostCopy) {
      const out = await this.hostCopy.run(this.paramFeeds());
      for (const [name, s] of this.slots) s.cur = out[copyName(name)].data as Float32Array;
    }
    return new Map([...this.slots].map(([k, s]) => [k, { shape: s.shape, data: s.cur }]));
  }

  private released = false;

  /** Frees the device tensors and every session; safe to call more than once. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    for (const s of this.slots.values()) if (s.dev && s.dev.location !== 'cpu') s.dev.dispose();
    await this.step_.release();
    await this.optimizer?.release();
    await this.slicer?.session.release();
    await this.evaluator?.release();
    await this.hostCopy?.release();
  }
}

/**
 * The slice optimizer (graph/training/optimizers.ts) run over one parameter `elements` at a
 * time: each run reads views of the parameter, its gradient and its states, writes into scratch
 * buffers, and the scratch is copied back over the views. Outputs are never bound onto their own
 * inputs: ONNX Runtime does not promise to read an input before writing an output.
 */
class InPlaceOptimizer {
  /** The states' name suffixes (`.adam_m`, `.adam_v`; `.momentum`), from the graph's inputs. */
  private readonly suffixes: string[];
  private readonly scratch: Float32Array[];
  constructor(
    readonly session: ort.InferenceSession,
    spec: GraphSpec,
    private readonly elements: number,
  ) {
    this.suffixes = spec.inputs.map((v) => v.name!).filter((n) => n.startsWith(`${SLICE}.`)).map((n) => n.slice(SLICE.length));
    this.scratch = [SLICE, ...this.suffixes].map(() => new Float32Array(elements));
  }

  /** Updates `param` and its states (by name, through `valueOf`) from `grad`. */
  async update(param: string, shape: number[], grad: Float32Array, valueOf: (name: string) => Float32Array, scalars: Record<string, ort.Tensor>): Promise<void> {
    const targets = [valueOf(param), ...this.suffixes.map((x) => valueOf(param + x))];
    const inputs = [SLICE, ...this.suffixes.map((x) => SLICE + x)];
    const decay = new ort.Tensor('float32', Float32Array.of(decaysShape(shape) ? 1 : 0), []);
    for (let at = 0; at < grad.length; at += this.elements) {
      const n = Math.min(this.elements, grad.length - at);
      const view = (a: Float32Array) => new ort.Tensor('float32', a.subarray(at, at + n), [n]);
      const feeds: Record<string, ort.Tensor> = { ...scalars, decay, [gradName(SLICE)]: view(grad) };
      const fetches: Record<string, ort.Tensor> = {};
      inputs.forEach((name, k) => {
        feeds[name] = view(targets[k]);
        fetches[newName(name)] = new ort.Tensor('float32', this.scratch[k].subarray(0, n), [n]);
      });
      await this.session.run(feeds, fetches);
      targets.forEach((t, k) => t.set(this.scratch[k].subarray(0, n), at));
    }
  }
}

const copyName = (name: string) => `${name}_host`;

/** Identity over every slot: run on the device with host outputs, it downloads them all at once. */
function hostCopySpec(tensors: Value[]): GraphSpec {
  const inputs = tensors.map((v) => input(v.name!, 'float32', v.shape));
  return { name: 'host_copy', inputs, outputs: inputs.map((v) => identity(v).named(copyName(v.name!))) };
}
