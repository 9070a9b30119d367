// ort-train: trains an M2FN-family model on a dataset manifest with ONNX Runtime, using the
// training graphs our builder emits (no training kernels needed).
import { join } from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { checkLoss, defaultLoss } from '../graph/training/losses.ts';
import { DEFAULT_OPTIMIZER } from '../graph/training/optimizers.ts';
import { parseAugment } from './train/augment.ts';
import { parseSchedule } from './train/schedule.ts';
import { Interrupted, train, type Validation } from './train/train.ts';
import { configFromArgs, withModelOptions, type ModelArgs } from './model-options.ts';
import { checkIntegerOption, LIMITS } from '../runtime/limits.ts';
import { exitWithError, withFlags } from './cli-errors.ts';

const argv = await withModelOptions(yargs(hideBin(process.argv)))
  .scriptName('ort-train')
  .usage('$0 --data DATASET_DIR --out RUN_DIR [options]\n\nTrains on a dataset written by `m2fn prepare` (or `m2fn ava`) and writes RUN_DIR/inference.onnx, its card, train-log.jsonl, learning-curve.png and checkpoints/.')
  .option('data', { type: 'string', demandOption: true, describe: 'dataset directory (dataset.json + train/test JSONL or Parquet)', group: 'Run:' })
  .option('out', { type: 'string', demandOption: true, describe: 'run directory', group: 'Run:' })
  .option('epochs', { type: 'number', default: 10, group: 'Run:' })
  .option('batch-size', { type: 'number', default: 16, group: 'Run:' })
  .option('lr', { type: 'number', default: 1e-4, describe: 'base learning rate', group: 'Optimizer:' })
  .option('schedule', { type: 'string', default: 'cosine:warmup=100', describe: 'constant | step:SIZE:GAMMA | cosine[:warmup=N][:min=LR]', group: 'Optimizer:' })
  .option('optimizer', { choices: ['adamw', 'sgd'] as const, default: 'adamw' as const, group: 'Optimizer:' })
  .option('weight-decay', { type: 'number', default: DEFAULT_OPTIMIZER.weightDecay, describe: 'decoupled, on weights of rank ≥ 2', group: 'Optimizer:' })
  .option('clip-norm', { type: 'number', default: DEFAULT_OPTIMIZER.clipNorm, describe: 'clip gradients to this global norm (0: off)', group: 'Optimizer:' })
  .option('momentum', { type: 'number', default: DEFAULT_OPTIMIZER.momentum, describe: 'SGD momentum', group: 'Optimizer:' })
  .option('loss', { choices: ['wmse', 'mse', 'kld', 'emd'] as const, describe: 'default: wmse (regression), kld (distribution), emd (nima)', group: 'Run:' })
  .option('standardize-targets', { type: 'boolean', default: false, describe: 'train regression on z-scored targets (the exported model still outputs CTR)', group: 'Run:' })
  .option('augment', { type: 'string', default: 'none', describe: 'training-image augmentation: none, or a comma list of flip (mirror left-right) and shiftN (move up to N px), e.g. flip,shift4', group: 'Run:' })
  .option('ema', { type: 'number', default: 0, describe: 'export an exponential moving average of the weights with this per-step decay, e.g. 0.998 (0: off)', group: 'Optimizer:' })
  .option('validation', { type: 'string', default: 'holdout:0.1', describe: 'holdout:FRACTION (unseen images of the train split) | test | file:PATH (a JSONL or Parquet manifest, images relative to its folder) | none', group: 'Run:' })
  .option('patience', { type: 'number', default: 5, describe: 'early stopping: epochs without improvement (0: off)', group: 'Run:' })
  .option('select-by', { choices: ['sprc', 'loss'] as const, default: 'sprc' as const, describe: 'validation metric for the best checkpoint', group: 'Run:' })
  .option('ep', { choices: ['cpu', 'webgpu', 'cuda'] as const, default: 'cpu' as const, describe: 'execution provider', group: 'Run:' })
  .option('threads', { type: 'number', describe: 'intra-op threads (default: one per core)', group: 'Run:' })
  .option('step', { choices: ['fused', 'split'] as const, default: 'fused' as const, describe: 'one fused train-step graph, or training_model + optimizer (on cpu the optimizer updates in place, slice by slice: lower peak memory, docs/performance.md)', group: 'Run:' })
  .option('resume', { type: 'boolean', default: false, describe: 'continue from RUN_DIR/checkpoints/last.ckpt', group: 'Run:' })
  .option('force', { type: 'boolean', default: false, describe: 'start over in a RUN_DIR that already holds a run', group: 'Run:' })
  .option('checkpoint-every', { type: 'number', default: 50, describe: 'also checkpoint every N steps within an epoch (0: epoch ends only)', group: 'Run:' })
  .option('freeze-backbone-epochs', { type: 'number', default: 0, describe: 'keep the VGG backbone frozen for the first N epochs', group: 'Run:' })
  .option('pretrained', { type: 'string', describe: 'ONNX file whose 3×3 convs initialise the backbone', group: 'Run:' })
  .option('max-steps', { type: 'number', describe: 'stop after this many steps (smoke runs)', group: 'Run:' })
  .option('sensitivity-rounds', { type: 'number', default: 4, describe: 'image sensitivity on the validation rows each epoch: each row scored with this many images, attributes fixed (0: off); warns when the model is image-blind', group: 'Run:' })
  .option('quiet', { type: 'boolean', default: false, group: 'Run:' })
  .example('$0 --data out/dataset --out out/run --size 112 --width 0.25 --head-hidden 512,512 --epochs 5', 'a CPU-sized M2FN on a prepared synthetic world')
  .example('$0 --data out/dataset --out out/run --resume', 'continue an interrupted run')
  .example('$0 --data out/ava --out out/ava-run --aux-schema out/ava/dataset.json --output distribution --loss emd', 'NIMA-style training on AVA')
  .strict()
  .help()
  .parseAsync();

function validation(spec: string): Validation {
  if (spec === 'test' || spec === 'none') return { kind: spec };
  if (spec.startsWith('file:') && spec.length > 5) return { kind: 'file', file: spec.slice(5) };
  const m = /^holdout:(0?\.\d+|[01](\.\d+)?)$/.exec(spec);
  if (m && Number(m[1]) > 0 && Number(m[1]) < 1) return { kind: 'holdout', fraction: Number(m[1]) };
  throw new Error(`--validation "${spec}": use holdout:FRACTION (0 < FRACTION < 1), test, file:PATH or none`);
}

try {
  // The model reads attributes as the dataset encodes them (levels merged by `m2fn prepare`),
  // unless --aux-schema says otherwise.
  const explicitSchema = hideBin(process.argv).some((a) => a.startsWith('--aux-schema'));
  const args = { ...(argv as unknown as ModelArgs), 'aux-schema': explicitSchema ? argv['aux-schema'] : join(argv.data, 'dataset.json#auxSchema') };
  const config = configFromArgs(args);
  const loss = checkLoss(argv.loss ?? defaultLoss(config), config.output);
  if (!Number.isInteger(argv.epochs) || argv.epochs < 1) throw new Error(`--epochs must be a positive integer, got ${argv.epochs}`);
  // At least 2: batch statistics; the upper bounds are the runtime's (runtime/limits.ts).
  checkIntegerOption('--batch-size', argv['batch-size'], 2, LIMITS.batchSize);
  if (argv.threads !== undefined) checkIntegerOption('--threads', argv.threads, 1, LIMITS.threads);
  if (!(argv.lr > 0)) throw new Error(`--lr must be positive, got ${argv.lr}`);
  if (argv.ema !== 0 && !(argv.ema > 0 && argv.ema < 1)) throw new Error(`--ema must be a decay between 0 and 1 (e.g. 0.998), or 0 for off; got ${argv.ema}`);
  const result = await train({
    data: argv.data,
    out: argv.out,
    config,
    loss,
    optimizer: { ...DEFAULT_OPTIMIZER, kind: argv.optimizer, weightDecay: argv['weight-decay'], clipNorm: argv['clip-norm'], momentum: argv.momentum },
    lr: argv.lr,
    schedule: parseSchedule(argv.schedule),
    epochs: argv.epochs,
    batchSize: argv['batch-size'],
    seed: config.seed,
    ep: argv.ep,
    threads: argv.threads,
    mode: argv.step,
    validation: validation(argv.validation),
    patience: argv.patience,
    selectBy: argv['select-by'],
    resume: argv.resume,
    force: argv.force,
    checkpointEvery: argv['checkpoint-every'],
    freezeBackboneEpochs: argv['freeze-backbone-epochs'],
    pretrained: argv.pretrained,
    standardizeTargets: argv['standardize-targets'],
    augment: parseAugment(argv.augment),
    ema: argv.ema || undefined,
    maxSteps: argv['max-steps'],
    sensitivityRounds: argv['sensitivity-rounds'],
    quiet: argv.quiet,
    report: (line) => process.stderr.write(`${withFlags(line)}\n`),
  });
  const last = result.log[result.log.length - 1];
  console.log(JSON.stringify({ steps: result.steps, epochs: result.log.length, bestEpoch: result.bestEpoch, stoppedEarly: result.stoppedEarly, last, model: result.inferencePath }));
} catch (e) {
  exitWithError('ort-train', e, e instanceof Interrupted ? (e.signal === 'SIGINT' ? 130 : 143) : 1);
}
