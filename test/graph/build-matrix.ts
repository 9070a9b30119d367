// The build matrix: every model/option combination the CLI offers, at a small size. build.test.ts
// builds and runs each one; inference-digest.test.ts pins the graph each one produces.
import type { ModelArgs } from '../../tools/model-options.ts';

export const base: ModelArgs = {
  model: 'm2fn', backbone: 'vgg11', 'backbone-norm': 'none', size: 32, width: 0.125, 'cbn-placement': '1,0,0,0,0', 'aux-cross': 0,
  'att-hidden': 5, 'fuse-dim': 6, 'head-hidden': '7', 'aux-schema': 'real-ad', seed: 0, link: 'identity',
};

export const matrix: [string, Partial<ModelArgs>][] = [];
for (const model of ['m2fn', 'image-only', 'concat', 'nima'] as const) {
  for (const backbone of ['vgg19', 'vgg16', 'vgg11'] as const) {
    for (const output of ['regression', 'distribution'] as const) matrix.push([`${model} ${backbone} ${output}`, { model, backbone, output }]);
  }
}
for (let bits = 0; bits < 8; bits++) {
  const [low, att, high] = [bits & 1, bits & 2, bits & 4].map(Boolean);
  matrix.push([`m2fn aux low=${low} att=${att} high=${high}`, { low, att, high }]);
}
for (const placement of ['1,1,1,1,1', '0,0,0,0,1', '0,0,1,1,1', '1,1,1,0,0']) matrix.push([`cbn placement ${placement}`, { 'cbn-placement': placement }]);
for (const model of ['m2fn', 'image-only'] as const) matrix.push([`${model} vgg19 with batch norm`, { model, backbone: 'vgg19', 'backbone-norm': 'batch' }]);
matrix.push(['m2fn with two cross layers on three attributes', { 'aux-cross': 2, 'aux-cross-attributes': 'age,ocr,domcol' }]);
matrix.push(['concat with a cross layer on every attribute', { model: 'concat', 'aux-cross': 1 }]);
matrix.push(['m2fn regressing log-odds (sigmoid output)', { link: 'logit' }]);
matrix.push(['ava schema, distribution', { 'aux-schema': 'ava', output: 'distribution' }]);
matrix.push(['64², width 0.25, head none, dropout', { size: 64, width: 0.25, 'head-hidden': '', dropout: 0.5 }]);
