// Stage 4 of a training run (train.ts): the training engine (engine.ts) started from the resumed
// checkpoint or fresh (optionally pretrained) weights, in the phase the run is in, with the
// weight average (`ema`) beside it. `RunEngine` is what the epochs drive: it steps, evaluates,
// switches phase when the backbone is unfrozen, and snapshots everything a checkpoint holds.
import { importPretrained } from '../../graph/export/pretrained.ts';
import type { Checkpoint } from './checkpoint.ts';
import { WeightAverage } from './ema.ts';
import { TrainEngine, type Batch } from './engine.ts';
import type { TrainGraphs } from './graphs.ts';
import type { TrainOptions } from './options.ts';

/** Checkpoint tensor-name prefix of the weight average (`ema`). */
const AVERAGE = 'average/';

type Tensors = Map<string, { shape: number[]; data: Float32Array }>;

/** The weight average stored in checkpoint tensors, by parameter name. */
export const averaged = (tensors: Map<string, { data: Float32Array }>) =>
  new Map([...tensors].filter(([k]) => k.startsWith(AVERAGE)).map(([k, v]) => [k.slice(AVERAGE.length), v]));

export class RunEngine {
  private constructor(
    private readonly o: TrainOptions,
    private readonly graphs: TrainGraphs,
    private engine: TrainEngine,
    private frozen: boolean,
    /** The average travels in the checkpoints next to the weights, so a resumed run continues it. */
    readonly average: WeightAverage | null,
  ) {}

  /** `epoch`: the epoch the run starts (or resumes) at, which decides the phase. */
  static async open(o: TrainOptions, graphs: TrainGraphs, resumed: Checkpoint | null, epoch: number, say: (s: string) => void): Promise<RunEngine> {
    // A fresh run starts from the weights of the run's own graphs (with any pretrained convs
    // copied in), which the engine then updates in place: no second copy of them.
    const initial = new Map<string, Float32Array>();
    if (resumed) for (const [k, t] of resumed.tensors) initial.set(k, t.data);
    else if (o.pretrained) say(`pretrained: ${importPretrained(graphs.step.model, o.pretrained).mapped.length} convs from ${o.pretrained}`);
    const frozen = epoch < o.freezeBackboneEpochs;
    const engine = await RunEngine.create(o, graphs, frozen, initial);
    const average = o.ema ? new WeightAverage(o.ema, resumed ? averaged(resumed.tensors) : await engine.values(), graphs.step.model.params.values.keys()) : null;
    return new RunEngine(o, graphs, engine, frozen, average);
  }

  private static create(o: TrainOptions, graphs: TrainGraphs, frozen: boolean, initial: Map<string, Float32Array>) {
    return TrainEngine.create({ setup: graphs.setupFor(frozen), mode: o.mode, ep: o.ep, threads: o.threads, initial, paramsFrom: graphs.step.model.params });
  }

  /** Called at the start of every epoch: leaves the frozen-backbone phase when its epochs are done. */
  async enterEpoch(epoch: number, say: (s: string) => void): Promise<void> {
    if (!this.frozen || epoch < this.o.freezeBackboneEpochs) return;
    const current = new Map([...(await this.engine.values())].map(([k, v]) => [k, Float32Array.from(v.data)]));
    await this.engine.release();
    this.engine = await RunEngine.create(this.o, this.graphs, false, current);
    this.frozen = false;
    say(`epoch ${epoch + 1}: backbone unfrozen`);
  }

  /** One optimizer step (`step` counts from 1); its mean loss over the batch. */
  step(batch: Batch, lr: number, step: number): Promise<number> {
    return this.engine.step(batch, lr, step);
  }

  /** Folds the weights after step `step` into the average (no-op without `ema`). */
  async updateAverage(step: number): Promise<void> {
    if (this.average) this.average.update(await this.engine.values(), step);
  }

  evaluate(batch: Batch) {
    return this.engine.evaluate(batch);
  }

  values(): Promise<Tensors> {
    return this.engine.values();
  }

  /** Every tensor a checkpoint holds: the engine's values and the weight average. */
  async snapshot(): Promise<Tensors> {
    const t = await this.engine.values();
    for (const [k, v] of this.average?.values ?? []) t.set(AVERAGE + k, { shape: t.get(k)!.shape, data: v });
    return t;
  }

  release(): Promise<void> {
    return this.engine.release();
  }
}
