// The training engine: ONNX Runtime sessions over the emitted training graphs, with parameters,
// optimizer state and running statistics held in two sets of buffers that swap each step (outputs
// are written into pre-allocated tensors, so no parameter-sized buffer is allocated per step).
import * as ort from 'onnxruntime-node';
import type { Value } from '../../graph/ir.ts';
import { serialize, type GraphSpec } from '../../graph/serialize.ts';
import { evalModel, gradName, newName, optimizerModel, trainingModel, trainStep, type TrainingSetup } from '../../graph/training/graphs.ts';
import { openSession, type ExecutionProvider } from '../../runtime/execution.ts';

export type StepMode = 'fused' | 'split';

export interface Batch {
  n: number;
  /** Tensors by input name: image, aux, target, weight, dropout masks. */
  feeds: Record<string, ort.Tensor>;
}

export interface EngineOptions {
  setup: TrainingSetup;
  mode: StepMode;
  ep: ExecutionProvider;
  threads?: number;
  /** Initial values of every parameter, statistic and optimizer state, by name (missing state → zeros). */
  initial: Map<string, Float32Array>;
}

interface Slot {
  name: string;
  shape: number[];
  cur: Float32Array;
  next: Float32Array;
}

export class TrainEngine {
  readonly slots = new Map<string, Slot>();
  private constructor(
    private readonly step_: ort.InferenceSession,
    private readonly optimizer: ort.InferenceSession | null,
    private readonly evaluator: ort.InferenceSession,
    /** Names updated by the train step (fused) or the training model + optimizer (split). */
    private readonly updated: string[],
    private readonly trainables: string[],
    private readonly grads: Map<string, Float32Array>,
    private readonly evalInputs: string[],
    private readonly stepInputs: string[],
    readonly predictionName: string,
    /** Optimizer state tensors: fed to the optimizer only, never to the model graphs. */
    private readonly states: Set<string>,
  ) {}

  static async create(o: EngineOptions): Promise<TrainEngine> {
    // Sessions opened so far are released if a later one fails: a WebGPU session still alive at
    // process exit aborts the process.
    const opened: ort.InferenceSession[] = [];
    const open = async (spec: GraphSpec, what: string) => {
      try {
        const s = (await openSession(serialize(spec), what, { ep: o.ep, threads: o.threads, fallback: false })).session;
        opened.push(s);
        return s;
      } catch (e) {
        await Promise.all(opened.map((s) => s.release()));
        throw e;
      }
    };
    const fused = trainStep(o.setup);
    const trainables = fused.model.params.trainable.filter((p) => !o.setup.frozen?.(p.name!)).map((p) => p.name!);
    const allTensors: Value[] = [...fused.paramOrder!, ...fused.states];
    const slots = new Map<string, Slot>();
    for (const v of allTensors) {
      const shape = v.shape as number[];
      const size = shape.reduce((a, b) => a * b, 1);
      const init = o.initial.get(v.name!) ?? (v.kind === 'param' ? (v.data as Float32Array) : new Float32Array(size));
      if (init.length !== size) throw new Error(`initial value of ${v.name} has ${init.length} values, expected ${size} ([${shape}])`);
      slots.set(v.name!, { name: v.name!, shape, cur: Float32Array.from(init), next: new Float32Array(size) });
    }
    const updated = fused.outputs.slice(1).map((v) => v.name!.replace(/_new$/, ''));
    const states = new Set(fused.states.map((v) => v.name!));
    const evalSpec = evalModel(o.setup);
    const evaluator = await open(evalSpec, 'eval_model');
    const evalInputs = evalSpec.inputs.map((v) => v.name!);
    const predictionName = evalSpec.outputs[1].name!;
    if (o.mode === 'fused') {
      const session = await open(fused, 'train_step');
      const engine = new TrainEngine(session, null, evaluator, updated, trainables, new Map(), evalInputs, fused.inputs.map((v) => v.name!), predictionName, states);
      slots.forEach((s, k) => engine.slots.set(k, s));
      return engine;
    }
    const training = trainingModel(o.setup);
    const grads = new Map(trainables.map((n) => [n, new Float32Array(slots.get(n)!.cur.length)]));
    const engine = new TrainEngine(
      await open(training, 'training_model'),
      await open(optimizerModel(o.setup), 'optimizer_model'),
      evaluator,
      updated,
      trainables,
      grads,
      evalInputs,
      training.inputs.map((v) => v.name!),
      predictionName,
      states,
    );
    slots.forEach((s, k) => engine.slots.set(k, s));
    return engine;
  }

  private tensor(name: string, which: 'cur' | 'next'): ort.Tensor {
    const s = this.slots.get(name)!;
    return new ort.Tensor('float32', s[which], s.shape);
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

  /** One optimisation step; returns the batch loss. */
  async step(batch: Batch, lr: number, step: number): Promise<number> {
    const scalars = { lr: new ort.Tensor('float32', Float32Array.of(lr), []), step: new ort.Tensor('float32', Float32Array.of(step), []) };
    const feeds = { ...this.paramFeeds(), ...batch.feeds };
    let loss: number;
    if (!this.optimizer) {
      const fetches: Record<string, ort.Tensor | null> = { loss: null };
      for (const name of this.updated) fetches[newName(name)] = this.tensor(name, 'next');
      const out = await this.step_.run({ ...feeds, ...scalars }, fetches);
      loss = (out.loss.data as Float32Array)[0];
    } else {
      const fetches: Record<string, ort.Tensor | null> = { loss: null };
      for (const name of this.trainables) fetches[gradName(name)] = new ort.Tensor('float32', this.grads.get(name)!, this.slots.get(name)!.shape);
      const stats = this.updated.filter((n) => !this.trainables.includes(n) && !this.states.has(n));
      for (const name of stats) fetches[newName(name)] = this.tensor(name, 'next');
      const out = await this.step_.run(this.modelFeeds(feeds, this.stepInputs), fetches);
      loss = (out.loss.data as Float32Array)[0];
      const optFeeds: Record<string, ort.Tensor> = { ...scalars };
      const optFetches: Record<string, ort.Tensor> = {};
      for (const name of this.updated) {
        if (stats.includes(name)) continue;
        optFeeds[name] = this.tensor(name, 'cur');
        optFetches[newName(name)] = this.tensor(name, 'next');
      }
      for (const name of this.trainables) optFeeds[gradName(name)] = fetches[gradName(name)]!;
      await this.optimizer.run(optFeeds, optFetches);
    }
    for (const name of this.updated) {
      const s = this.slots.get(name)!;
      [s.cur, s.next] = [s.next, s.cur];
    }
    return loss;
  }

  /** Loss and predictions with running statistics (no update). */
  async evaluate(batch: Batch): Promise<{ loss: number; prediction: Float32Array }> {
    const out = await this.evaluator.run(this.modelFeeds({ ...this.paramFeeds(), ...batch.feeds }, this.evalInputs), ['loss', this.predictionName]);
    return { loss: (out.loss.data as Float32Array)[0], prediction: out[this.predictionName].data as Float32Array };
  }

  /** Current values by name (views: copy before the next step if kept). */
  values(): Map<string, { shape: number[]; data: Float32Array }> {
    return new Map([...this.slots].map(([k, s]) => [k, { shape: s.shape, data: s.cur }]));
  }

  async release(): Promise<void> {
    await this.step_.release();
    await this.optimizer?.release();
    await this.evaluator.release();
  }
}
