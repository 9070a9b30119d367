// Configs saved by older versions: each legacy shape that exists in cards and checkpoints today
// reads as the model it was, and the resume identity of a run that uses none of the later fields
// is the one older versions wrote.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { validateConfig, type ModelConfig } from '../../graph/models/config.ts';
import { configIdentity, upgradeConfig } from '../../graph/models/config-compat.ts';
import { CONFIG_FIELDS } from '../../graph/models/config-schema.ts';
import { buildModel } from '../../graph/models/m2fn.ts';
import { canonicalJson } from '../../tools/train/checkpoint.ts';
import { smallConfig } from './helpers.ts';

const current = smallConfig('m2fn');
const without = (cfg: ModelConfig, ...keys: (keyof ModelConfig)[]) => Object.fromEntries(Object.entries(cfg).filter(([k]) => !keys.includes(k as keyof ModelConfig))) as never;

// The shapes older versions wrote: before backboneNorm, before auxCross (and its attribute list), before link.
const legacyShapes: [string, (keyof ModelConfig)[]][] = [
  ['before backboneNorm', ['backboneNorm']],
  ['before auxCross', ['auxCross', 'auxCrossAttributes']],
  ['before link', ['link']],
  ['before all three', ['backboneNorm', 'auxCross', 'auxCrossAttributes', 'link']],
];
for (const [when, keys] of legacyShapes) {
  test(`a config saved ${when} reads as the model it was`, () => {
    const old = without(current, ...keys);
    assert.equal(upgradeConfig(old), current);
    assert.equal(validateConfig(old), current);
    const a = buildModel(old);
    const b = buildModel(current);
    assert.equal([...a.params.values].map(([n, v]) => [n, v.shape]), [...b.params.values].map(([n, v]) => [n, v.shape]));
  });
}

test('a saved config keeps what it says: a later field that is present is not reset', () => {
  const saved = { ...current, link: 'logit' as const, auxCross: 2, backboneNorm: 'batch' as const };
  assert.equal(upgradeConfig(saved), saved);
});

// The fields the config had when the last checkpoints without a schema were written; a field
// added since must stay out of the identity while unused, or those checkpoints stop resuming.
const OLDER_FIELDS = ['model', 'backbone', 'backboneNorm', 'size', 'width', 'modules', 'cbnPlacement', 'cbnHidden', 'attHidden', 'fuseDim', 'headHidden', 'auxCross', 'auxCrossAttributes', 'output', 'link', 'dropout', 'bnEps', 'auxSchema', 'seed'];
// The identity those versions computed (tools/train/train.ts before the schema): the cross and
// the link left out while unused.
const olderIdentity = (cfg: ModelConfig) => {
  const c = Object.fromEntries(Object.entries(cfg).filter(([k]) => OLDER_FIELDS.includes(k))) as unknown as ModelConfig;
  return { ...c, ...(c.auxCross ? {} : { auxCross: undefined, auxCrossAttributes: undefined }), ...(c.link === 'logit' ? {} : { link: undefined }) };
};
const identityCases: [string, ModelConfig][] = [
  ['the paper model', current],
  ['an attribute list with no cross layer', smallConfig('m2fn', { auxCrossAttributes: ['age'] })],
  ['a cross layer', smallConfig('m2fn', { auxCross: 1, auxCrossAttributes: ['age', 'month'] })],
  ['the logit link', smallConfig('m2fn', { link: 'logit' })],
  ['batch norm', smallConfig('image-only', { backboneNorm: 'batch' })],
];
for (const [what, cfg] of identityCases) {
  test(`resume identity of ${what} is the one older versions wrote`, () => {
    assert.is(canonicalJson(configIdentity(cfg)), canonicalJson(olderIdentity(cfg)));
  });
}

test('only fields with a legacy value are ever left out of the identity', () => {
  const omitted = Object.keys(current).filter((k) => !(k in configIdentity(current)));
  assert.ok(omitted.length > 0);
  for (const k of omitted) assert.ok(CONFIG_FIELDS[k as keyof ModelConfig].legacy?.identityOmits, k);
});

test.run();
