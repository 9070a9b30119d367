// m2fn-build-graph: builds a model of the M2FN family and writes inference.onnx with its card.
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { topoSort } from '../graph/core/ir.ts';
import { inferenceSpec, writeInference } from '../graph/export/inference.ts';
import { buildModel } from '../graph/models/m2fn.ts';
import { isBackboneParam } from '../graph/models/modules.ts';
import { writeExplain } from '../graph/export/explain.ts';
import { importPretrained } from '../graph/export/pretrained.ts';
import { checkLoss, defaultLoss } from '../graph/training/losses.ts';
import { DEFAULT_OPTIMIZER } from '../graph/training/optimizers.ts';
import { configFromArgs, withModelOptions, type ModelArgs } from './model-options.ts';
import { writeArtifacts } from './train/artifacts.ts';
import { exitWithError } from './cli-errors.ts';

const argv = await withModelOptions(yargs(hideBin(process.argv)))
  .scriptName('m2fn-build-graph')
  .usage('$0 --out DIR [options]\n\nBuilds an M2FN-family model as ONNX (opset 17) and writes DIR/inference.onnx with DIR/inference.card.json.')
  .option('out', { type: 'string', demandOption: true, describe: 'output directory' })
  .option('pretrained', { type: 'string', describe: 'ONNX file whose 3×3 conv weights initialise the backbone (e.g. model-zoo VGG19)' })
  .option('attention-output', { type: 'boolean', default: false, describe: 'also output the attention weights [N, s·s]' })
  .option('explain', { type: 'boolean', default: false, describe: 'also write DIR/explain.onnx + card: the output, attention weights and a Grad-CAM map per VGG stage (gradients from our autodiff, in the same graph)' })
  .option('artifacts', { type: 'boolean', default: false, describe: 'also write the training artifacts: training_model, eval_model, optimizer_model, train_step, checkpoint', group: 'Training artifacts:' })
  .option('loss', { choices: ['wmse', 'mse', 'kld', 'emd'] as const, describe: 'default: wmse (regression), kld (distribution), emd (nima)', group: 'Training artifacts:' })
  .option('optimizer', { choices: ['adamw', 'sgd'] as const, default: 'adamw' as const, group: 'Training artifacts:' })
  .option('weight-decay', { type: 'number', default: DEFAULT_OPTIMIZER.weightDecay, group: 'Training artifacts:' })
  .option('clip-norm', { type: 'number', default: DEFAULT_OPTIMIZER.clipNorm, describe: '0: no clipping', group: 'Training artifacts:' })
  .option('ep', { choices: ['cpu', 'webgpu', 'cuda'] as const, default: 'cpu' as const, describe: 'lower gradients for this provider (webgpu: no MaxPool indices)', group: 'Training artifacts:' })
  .option('freeze-backbone', { type: 'boolean', default: false, describe: 'no gradients or updates for the VGG convs', group: 'Training artifacts:' })
  .option('text-encoder', { type: 'string', default: 'hashing-v1', describe: 'id of the TextEncoder the model is meant for (recorded in the card)' })
  .example('$0 --out out/m2fn', 'the paper’s M2FN: VGG19, 224², CBN after conv1, attention, fusion')
  .example('$0 --model image-only --out out/vgg19', 'vanilla VGG19 baseline')
  .example('$0 --model concat --out out/m1fn', 'M1FN: attributes concatenated before the last FC')
  .example('$0 --model nima --output distribution --out out/nima', 'NIMA-style 10-way distribution')
  .example('$0 --size 112 --width 0.25 --head-hidden 512 --out out/small', 'a CPU-sized M2FN')
  .example('$0 --no-att --no-high --out out/ablation', 'ablation "O O × ×" (paper Table 7)')
  .example('$0 --aux-cross 1 --aux-cross-attributes age,month,ocr,domcol --out out/cross', 'beyond the paper: pairs of these attributes get their own weights')
  .example('$0 --aux-schema ava --output distribution --out out/ava', 'AVA: tags as text, CBN hidden 64')
  .example('$0 --explain --size 64 --width 0.125 --out out/explain', 'also the explain graph (attention + Grad-CAM per stage)')
  .example('$0 --artifacts --size 112 --width 0.25 --out out/train', 'training artifacts (ONNX Runtime on-device training layout)')
  .strict()
  .help()
  .parseAsync();

try {
  const model = buildModel(configFromArgs(argv as unknown as ModelArgs));
  if (argv.pretrained) {
    const r = importPretrained(model, argv.pretrained);
    console.log(`pretrained: ${r.mapped.length} convs from ${r.source}${r.unusedSourceConvs ? ` (${r.unusedSourceConvs} source convs unused)` : ''}`);
  }
  const written = await writeInference(argv.out, model, { attention: argv['attention-output'], textEncoder: argv['text-encoder'] });
  const ops = new Map<string, number>();
  for (const n of topoSort(inferenceSpec(model, { attention: argv['attention-output'] }).outputs)) ops.set(n.op, (ops.get(n.op) ?? 0) + 1);
  const p = written.card.parameters;
  console.log(`wrote ${written.onnxPath} (${(written.bytes / 1e6).toFixed(1)} MB) and ${written.cardPath}`);
  console.log(`model ${model.config.model}, ${model.config.backbone}, ${model.config.size}², width ×${model.config.width}, aux dim ${written.card.inputs.aux?.shape[1] ?? 0}`);
  console.log(`parameters: ${p.total.toLocaleString('en')} (${Object.entries(p.byModule).map(([k, v]) => `${k} ${v.toLocaleString('en')}`).join(', ')})`);
  console.log(`ops: ${[...ops].map(([k, v]) => `${k} ${v}`).join(', ')}`);
  if (argv.explain) {
    const ex = await writeExplain(argv.out, model, { textEncoder: argv['text-encoder'] });
    console.log(`wrote ${ex.onnxPath} (${(ex.bytes / 1e6).toFixed(1)} MB): ${ex.card.explain!.gradcam.map((g) => `${g.name} ${g.height}×${g.width}`).join(', ')}${ex.card.explain!.attention ? ', attention' : ''}`);
  }
  if (argv.artifacts) {
    const set = await writeArtifacts(argv.out, {
      config: model.config,
      loss: checkLoss(argv.loss ?? defaultLoss(model.config), model.config.output),
      optimizer: { ...DEFAULT_OPTIMIZER, kind: argv.optimizer, weightDecay: argv['weight-decay'], clipNorm: argv['clip-norm'] },
      ep: argv.ep === 'webgpu' ? 'webgpu' : 'cpu',
      frozen: argv['freeze-backbone'] ? isBackboneParam : undefined,
    }, model);
    for (const [name, f] of Object.entries(set.files)) if (name !== 'inference') console.log(`wrote ${f.onnxPath} (${(f.bytes / 1e6).toFixed(1)} MB)`);
    console.log(`wrote ${set.checkpoint} and ${set.manifest}`);
  }
} catch (e) {
  exitWithError('m2fn-build-graph', e);
}
