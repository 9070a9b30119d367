// Micro-batching for the scoring service: requests arrive one image at a time, but a model run on
// a batch costs far less per image than one run per image. Prepared inputs (normalised image
// tensors and aux vectors, made concurrently by the request handlers) wait here; one loop takes up
// to `maxBatch` of them, runs them in a single session.run, and answers each. While a run is in
// progress the next requests gather, so under load batches fill by themselves and an idle server
// answers a lone request at once. `windowMs` (default 0) makes a batch that is not full wait that
// long for company first: latency traded for larger batches where model runs are cheap next to
// the requests' own preparation.
import type { Score } from '../../runtime/results.ts';

export interface PreparedItem {
  /** [3, size, size], normalised. */
  image: Float32Array;
  /** [auxDim], or null for models without aux. */
  aux: Float32Array | null;
}

/** Runs n prepared items as one batch (the scorer's scoreTensors). */
export type BatchRunner = (image: Float32Array, aux: Float32Array | null, n: number) => Promise<Score[]>;

export interface BatchStats {
  batches: number;
  items: number;
  largestBatch: number;
}

interface Waiting extends PreparedItem {
  resolve(s: Score): void;
  reject(e: unknown): void;
}

export class MicroBatcher {
  private readonly queue: Waiting[] = [];
  private running: Promise<void> | null = null;
  readonly stats: BatchStats = { batches: 0, items: 0, largestBatch: 0 };

  constructor(
    private readonly run: BatchRunner,
    private readonly maxBatch: number,
    private readonly windowMs = 0,
  ) {
    if (!(Number.isInteger(maxBatch) && maxBatch > 0)) throw new Error(`maxBatch must be a positive integer, got ${maxBatch}`);
    if (!(Number.isFinite(windowMs) && windowMs >= 0)) throw new Error(`windowMs must be a non-negative number, got ${windowMs}`);
  }

  /** Scores `items` (in order) in whichever batches they fall into. */
  submit(items: PreparedItem[]): Promise<Score[]> {
    const done = Promise.all(items.map((it) => new Promise<Score>((resolve, reject) => this.queue.push({ ...it, resolve, reject }))));
    this.running ??= this.drain().finally(() => {
      this.running = null;
    });
    return done;
  }

  /** Resolves once nothing is queued or running. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    while (this.queue.length) {
      // Items submitted in the same turn of the event loop (requests prepared together) join.
      await new Promise((ok) => setImmediate(ok));
      if (this.windowMs > 0 && this.queue.length < this.maxBatch) await new Promise((ok) => setTimeout(ok, this.windowMs));
      const batch = this.queue.splice(0, this.maxBatch);
      const n = batch.length;
      const image = new Float32Array(n * batch[0].image.length);
      batch.forEach((it, i) => image.set(it.image, i * it.image.length));
      let aux: Float32Array | null = null;
      if (batch[0].aux) {
        const d = batch[0].aux.length;
        aux = new Float32Array(n * d);
        batch.forEach((it, i) => aux!.set(it.aux!, i * d));
      }
      this.stats.batches++;
      this.stats.items += n;
      this.stats.largestBatch = Math.max(this.stats.largestBatch, n);
      try {
        const scores = await this.run(image, aux, n);
        batch.forEach((it, i) => it.resolve(scores[i]));
      } catch (e) {
        for (const it of batch) it.reject(e);
      }
    }
  }
}
