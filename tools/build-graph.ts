// m2fn-build-graph: builds a model of the M2FN family and writes inference.onnx with its card.
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { topoSort } from '../graph/ir.ts';
import { inferenceSpec, writeInference } from '../graph/export.ts';
import { buildModel } from '../graph/models/m2fn.ts';
import { importPretrained } from '../graph/pretrained.ts';
import { configFromArgs, withModelOptions, type ModelArgs } from './model-options.ts';

const argv = await withModelOptions(yargs(hideBin(process.argv)))
  .scriptName('m2fn-build-graph')
  .usage('$0 --out DIR [options]\n\nBuilds an M2FN-family model as ONNX (opset 17) and writes DIR/inference.onnx with DIR/inference.card.json.')
  .option('out', { type: 'string', demandOption: true, describe: 'output directory' })
  .option('pretrained', { type: 'string', describe: 'ONNX file whose 3×3 conv weights initialise the backbone (e.g. model-zoo VGG19)' })
  .option('attention-output', { type: 'boolean', default: false, describe: 'also output the attention weights [N, s·s]' })
  .option('text-encoder', { type: 'string', default: 'hashing-v1', describe: 'id of the TextEncoder the model is meant for (recorded in the card)' })
  .example('$0 --out out/m2fn', 'the paper’s M2FN: VGG19, 224², CBN after conv1, attention, fusion')
  .example('$0 --model image-only --out out/vgg19', 'vanilla VGG19 baseline')
  .example('$0 --model concat --out out/m1fn', 'M1FN: attributes concatenated before the last FC')
  .example('$0 --model nima --output distribution --out out/nima', 'NIMA-style 10-way distribution')
  .example('$0 --size 112 --width 0.25 --head-hidden 512 --out out/small', 'a CPU-sized M2FN')
  .example('$0 --no-att --no-high --out out/ablation', 'ablation "O O × ×" (paper Table 7)')
  .example('$0 --aux-schema ava --output distribution --out out/ava', 'AVA: tags as text, CBN hidden 64')
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
} catch (e) {
  console.error(`m2fn-build-graph: ${(e as Error).message}`);
  process.exit(1);
}
