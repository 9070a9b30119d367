// m2fn whatif: one creative's predicted CTR across every level of the attributes in --vary, the
// others fixed as --attrs gives them: a bar chart per attribute (PNG), a Markdown table and JSON.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { writeFileAtomic } from '../../runtime/atomic-write.ts';
import { barChartSvg, svgToPng } from '../data/bar-chart.ts';
import { load } from '../../runtime/node.ts';
import { whatIf } from '../../runtime/whatif.ts';
import { parseAttrs } from './attrs-arg.ts';
import { defineCommand } from './command.ts';

export const whatifCommand = defineCommand({
  command: 'whatif <image>',
  describe: 'predicted CTR of one creative across the levels of chosen attributes, the rest fixed: whatif.png, whatif.md, whatif.json',
  builder: (y) =>
    y
      .positional('image', { type: 'string', demandOption: true })
      .option('model', { type: 'string', demandOption: true, describe: 'run directory (inference.onnx + card)' })
      .option('attrs', { type: 'string', demandOption: true, describe: 'the fixed context: JSON, @FILE, or key=value,…' })
      .option('vary', { type: 'string', default: 'hour,weekday,age,position', describe: 'attributes to sweep, comma-separated' })
      .option('out', { type: 'string', demandOption: true, describe: 'output directory' })
      .example('$0 whatif ad.png --model out/demo/run --attrs @attrs.json --vary hour,age --out out/whatif', 'CTR by hour and by age for one creative'),
  handler: async (a) => {
    if (!existsSync(a.image)) throw new Error(`${a.image}: no such file`);
    const attributes = parseAttrs(a.attrs);
    const scorer = await load(a.model, { ep: 'cpu' });
    try {
      const sweeps = await whatIf(scorer, a.image, attributes, a.vary.split(',').map((s) => s.trim()).filter(Boolean));
      const W = 720;
      const H = 300;
      const charts = await Promise.all(sweeps.map((s) => svgToPng(barChartSvg(`predicted CTR by ${s.attribute}${s.given !== null ? ` (given: ${s.given})` : ''}`, s.levels.map((l) => ({ label: l.level, value: l.score })), { width: W, height: H, percent: true, yLabel: 'predicted CTR' }))));
      const png = await sharp({ create: { width: W, height: H * charts.length, channels: 3, background: '#ffffff' } }).composite(charts.map((c, i) => ({ input: c, left: 0, top: i * H }))).png().toBuffer();
      const md = [`# What if: ${a.image}`, '', `Model \`${a.model}\`; fixed context \`${JSON.stringify(attributes)}\`.`, ''];
      for (const s of sweeps) {
        md.push(`## ${s.attribute}`, '', '| level | predicted CTR |', '|---|---|', ...s.levels.map((l) => `| ${l.level}${l.level === s.given ? ' (given)' : ''} | ${(100 * l.score).toFixed(3)}% |`), '');
      }
      writeFileAtomic(join(a.out, 'whatif.png'), png);
      writeFileAtomic(join(a.out, 'whatif.md'), md.join('\n'));
      writeFileAtomic(join(a.out, 'whatif.json'), JSON.stringify({ image: a.image, attributes, sweeps }, null, 1) + '\n');
      console.log(JSON.stringify({ chart: join(a.out, 'whatif.png'), table: join(a.out, 'whatif.md'), json: join(a.out, 'whatif.json') }));
    } finally {
      await scorer.close();
    }
  },
});
