// m2fn explain: why a model scores one creative as it does — PNG overlays of the spatial attention
// and of one Grad-CAM map per VGG stage (graph/export/explain.ts), and a panel of all of them.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../runtime/atomic-write.ts';
import { load } from '../../runtime/node.ts';
import { basePixels, overlayPng, panelPng } from '../explain/overlay.ts';
import { parseAttrs } from './attrs-arg.ts';
import { defineCommand } from './command.ts';

export const explainCommand = defineCommand({
  command: 'explain <image>',
  describe: 'attention and Grad-CAM overlays (PNG) of one creative under one context, from the model directory\'s explain.onnx',
  builder: (y) =>
    y
      .positional('image', { type: 'string', demandOption: true, describe: 'the creative (PNG, JPEG, …)' })
      .option('model', { type: 'string', demandOption: true, describe: 'run directory with explain.onnx + explain.card.json (ort-train, or m2fn-build-graph --explain)' })
      .option('attrs', { type: 'string', default: '{}', describe: 'the context: JSON, @FILE, or key=value,… (e.g. gender=1,age=7,hour=21,…)' })
      .option('out', { type: 'string', demandOption: true, describe: 'directory for the PNGs and explain.json' })
      .option('size', { type: 'number', default: 256, describe: 'overlay size in pixels' })
      .example('$0 explain out/demo/dataset/images/ad-00001.png --model out/demo/run --attrs @attrs.json --out out/explain', 'overlays for one demo creative'),
  handler: async (a) => {
    if (!existsSync(a.image)) throw new Error(`${a.image}: no such file`);
    if (!(Number.isInteger(a.size) && a.size >= 16 && a.size <= 2048)) throw new Error(`--size ${a.size}: an integer from 16 to 2048`);
    const attributes = parseAttrs(a.attrs);
    const explainer = await load(join(a.model, 'explain.onnx'), { ep: 'cpu' });
    try {
      const ex = await explainer.explain(a.image, attributes);
      mkdirSync(a.out, { recursive: true });
      const base = await basePixels(a.image, a.size);
      const panels: { title: string; png: Buffer; file: string }[] = [];
      const original = await overlayPng(base, a.size, [0], 1, 1);
      panels.push({ title: 'image', png: original, file: '' });
      if (ex.attention) panels.push({ title: 'attention', png: await overlayPng(base, a.size, ex.attention.weights, ex.attention.height, ex.attention.width), file: 'attention.png' });
      for (const g of ex.gradcam) panels.push({ title: `Grad-CAM stage ${g.stage}`, png: await overlayPng(base, a.size, g.map, g.height, g.width), file: `gradcam${g.stage}.png` });
      const written: string[] = [];
      for (const p of panels.filter((p) => p.file)) {
        writeFileAtomic(join(a.out, p.file), p.png);
        written.push(join(a.out, p.file));
      }
      const panel = join(a.out, 'explain.png');
      writeFileAtomic(panel, await panelPng(panels, a.size));
      const summary = {
        image: a.image,
        score: ex.score,
        attention: ex.attention && { height: ex.attention.height, width: ex.attention.width, weights: [...ex.attention.weights] },
        gradcam: ex.gradcam.map((g) => ({ stage: g.stage, height: g.height, width: g.width, max: Math.max(...g.map), map: [...g.map] })),
      };
      writeFileAtomic(join(a.out, 'explain.json'), JSON.stringify(summary) + '\n');
      console.log(JSON.stringify({ score: ex.score, panel, files: written, json: join(a.out, 'explain.json') }));
    } finally {
      await explainer.close();
    }
  },
});
