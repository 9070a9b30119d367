// The training loop behind `ort-train`, the replication and any library caller, read top to
// bottom: open the run → build the graphs → prepare the data → open the engine → the epochs →
// export. Each stage is one module with one entry; TrainOptions (options.ts) is the one object
// they share. A run writes only in `out`, atomically; one run at a time per directory.
import { existsSync, mkdirSync, readdirSync, rmdirSync } from 'node:fs';
import { assertDisjoint } from '../data/paths.ts';
import { planEpochs, runEpochs, startEpoch } from './epochs.ts';
import { exportRun } from './export.ts';
import { buildGraphs } from './graphs.ts';
import { RunEngine } from './open-engine.ts';
import { openRun } from './open-run.ts';
import { reportLine, type TrainOptions, type TrainResult } from './options.ts';
import { prepareData } from './prepare-data.ts';
import { lockRunDir } from './run-lock.ts';

export { Interrupted } from './epochs.ts';
export type { EpochLog, TrainOptions, TrainResult, Validation } from './options.ts';

/** A directory this call created and left empty is removed. */
export async function train(o: TrainOptions): Promise<TrainResult> {
  // A run writes only in `out`, which must not overlap what it reads.
  const inputs = [{ field: 'data', path: o.data }, ...(o.validation.kind === 'file' ? [{ field: 'validation.file', path: o.validation.file }] : []), ...(o.pretrained ? [{ field: 'pretrained', path: o.pretrained }] : [])];
  assertDisjoint(o.out, inputs);
  const existed = existsSync(o.out);
  const lock = lockRunDir(o.out);
  try {
    return await trainLocked(o);
  } finally {
    lock.release();
    if (!existed && readdirSync(o.out).length === 0) rmdirSync(o.out);
  }
}

async function trainLocked(o: TrainOptions): Promise<TrainResult> {
  const report = reportLine(o);
  const say = (s: string) => {
    if (!o.quiet) report(s);
  };
  // Everything that can be refused is checked before anything is written.
  const run = openRun(o);
  const graphs = buildGraphs(o, run);
  const data = await prepareData(o, graphs, say);
  mkdirSync(run.files.checkpoints, { recursive: true });
  const signals = watchSignals();
  let engine: RunEngine | null = null;
  try {
    const plan = planEpochs(o, data.train.rows.length);
    engine = await RunEngine.open(o, graphs, run.resumed, startEpoch(run), say);
    const outcome = await runEpochs(o, run, data, engine, plan, signals.received, say);
    return await exportRun(o, run, data, engine, outcome);
  } finally {
    signals.stop();
    // Released on every way out: a WebGPU session alive at exit aborts the process.
    await engine?.release();
    data.close();
  }
}

/** SIGINT/SIGTERM end the run after the current step (epochs.ts checkpoints and stops). */
function watchSignals() {
  let received: NodeJS.Signals | null = null;
  const onSignal = (signal: NodeJS.Signals) => (received = signal);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    received: () => received,
    stop: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
