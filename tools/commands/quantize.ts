// m2fn quantize: writes an int8 (QDQ) copy of a trained model, calibrated on a prepared dataset.
import { quantizeModelDir } from '../quantize/model-dir.ts';
import { defineCommand } from './command.ts';

export const quantizeCommand = defineCommand({
  command: 'quantize <model>',
  describe: 'int8 inference graph (ONNX QDQ: per-channel int8 weights, uint8 activations calibrated on dataset rows) from a float32 model directory',
  builder: (y) =>
    y
      .positional('model', { type: 'string', demandOption: true, describe: 'model directory (inference.onnx + inference.card.json), float32' })
      .option('calibrate', { type: 'string', demandOption: true, describe: 'prepared dataset directory whose rows give the activation ranges' })
      .option('out', { type: 'string', describe: 'output directory (default: MODEL-int8)' })
      .option('split', { choices: ['train', 'test'] as const, default: 'train' as const, describe: 'calibration split (keep test for evaluation)' })
      .option('rows', { type: 'number', default: 128, describe: 'calibration rows, spread evenly over the split' })
      .option('weight-bits', { type: 'number', default: 8, describe: '8, or 7 to avoid int16 saturation on CPUs without VNNI' })
      .option('batch-size', { type: 'number', default: 8 })
      .example('$0 quantize out/demo/run --calibrate out/demo/dataset', 'writes out/demo/run-int8/'),
  handler: async (a) => {
    if (a['weight-bits'] !== 7 && a['weight-bits'] !== 8) throw new Error(`--weight-bits must be 7 or 8, got ${a['weight-bits']}`);
    if (!(Number.isInteger(a.rows) && a.rows > 0)) throw new Error(`--rows must be a positive integer, got ${a.rows}`);
    const out = a.out ?? `${a.model.replace(/\/+$/, '')}-int8`;
    const r = await quantizeModelDir(a.model, a.calibrate, out, { split: a.split, rows: a.rows, weightBits: a['weight-bits'], batchSize: a['batch-size'] });
    console.error(`quantized ${r.convs} convs (${r.tensors} activation tensors) calibrated on ${r.card.precision!.calibration.rows} ${a.split} rows of ${a.calibrate}`);
    console.log(JSON.stringify({ onnx: r.onnxPath, card: r.cardPath, bytes: r.bytes, convs: r.convs }));
  },
});
