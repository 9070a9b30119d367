// The config schema and what is derived from it: the drift check (and that it catches drifted
// copies), defaults and presets through the CLI mapping, and field errors → flags.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import yargs from 'yargs';
import { defaultConfig, PRESETS, validateConfig } from '../../graph/models/config.ts';
import { CONFIG_FIELDS, MODEL_KINDS } from '../../graph/models/config-schema.ts';
import { checkLoss } from '../../graph/training/losses.ts';
import { AVA_SCHEMA } from '../../runtime/schema.ts';
import { FieldError } from '../../runtime/errors.ts';
import { cliMessage, flagFor, withFlags } from '../../tools/cli-errors.ts';
import { configDrift, configTable, declaredModelOptions, DOC_PATH, spliceConfigTable, type ConfigFields } from '../../tools/config-doc.ts';
import { configFromArgs, MODEL_FLAGS, withModelOptions } from '../../tools/model-options.ts';
import { smallConfig } from './helpers.ts';

const doc = readFileSync(DOC_PATH, 'utf8');
const parse = (...args: string[]) => configFromArgs(withModelOptions(yargs(args)).strict().parseSync() as never);

test('the model options, the flag defaults and docs/model.md agree with the schema', () => {
  assert.equal(configDrift(CONFIG_FIELDS, declaredModelOptions(), doc), []);
});

// Each copy drifts one thing; the check must name it.
const drifted: [string, (f: ConfigFields) => void, RegExp][] = [
  ['a flag default that means another model', (f) => (f.headHidden.flags![0].default = '512'), /--head-hidden \(headHidden\): the option's default "4096,4096" is not the schema's "512"[^]*means \[512\], but the field's default is \[4096,4096\]/],
  ['a field default the flag does not mean', (f) => (f.size.default = () => 112), /--size \(size\): the flag's default 224 means 224, but the field's default is 112/],
  ['a schema flag naming another preset', (f) => (f.auxSchema.flags![0].default = 'ava'), /--aux-schema \(auxSchema\): the flag's default "ava" means \{"name":"ava"/],
  ['a doc line', (f) => (f.fuseDim.doc = 'something else'), /the config table is not the schema's/],
  ['a flag the schema lost', (f) => (f.seed.flags = []), /--seed is a model option the schema does not have/],
  ['a flag no CLI declares', (f) => (f.bnEps.flags = [{ name: 'bn-eps', type: 'number', group: 'Model:' }]), /--bn-eps \(bnEps\) is in the schema but not a model option/],
  ['choices', (f) => (f.backbone.flags![0].choices = ['vgg19']), /--backbone \(backbone\): the option's choices \["vgg19","vgg16","vgg11"\] are not the schema's \["vgg19"\]/],
];
for (const [what, drift, expected] of drifted) {
  test(`the drift check catches a drifted copy: ${what}`, () => {
    const copy = structuredCloneFields();
    drift(copy);
    const found = configDrift(copy, declaredModelOptions(), doc).join('\n');
    assert.match(found, expected);
  });
}

test('the drift check refuses a doc without the table markers, and --write splices only between them', () => {
  assert.match(configDrift(CONFIG_FIELDS, declaredModelOptions(), '# no table\n').join('\n'), /markers are missing/);
  const spliced = spliceConfigTable(doc.replace(/\| `seed` \|[^\n]*\n/, ''), configTable(CONFIG_FIELDS));
  assert.is(spliced, doc);
});

test('both CLIs declare every model flag', () => {
  for (const bin of ['bin/m2fn-build-graph.js', 'bin/ort-train.js']) {
    const help = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' }).stdout;
    for (const f of MODEL_FLAGS) assert.ok(help.includes(`--${f.name} `) || help.includes(`--${f.name}\n`), `${bin} --${f.name}`);
  }
});

test('the flags with nothing given build defaultConfig, for every family member and for the AVA preset', () => {
  for (const model of MODEL_KINDS) assert.equal(parse('--model', model), defaultConfig(model), model);
  const ava = parse('--aux-schema', 'ava');
  assert.equal(ava, defaultConfig('m2fn', 'ava'));
  assert.is(ava.cbnHidden, 64);
  assert.is(ava.auxSchema, AVA_SCHEMA);
  // A library caller asking for the AVA model gets what the CLI builds, not the Real-Ad sizes.
  assert.is(defaultConfig('m2fn', 'ava').cbnHidden, PRESETS.ava.overrides.cbnHidden);
  assert.is(defaultConfig('m2fn').cbnHidden, 256);
  assert.is(defaultConfig('image-only', 'ava').auxSchema, null);
  assert.is(parse('--aux-schema', 'ava', '--cbn-hidden', '256').cbnHidden, 256);
});

test('the flags set the fields they name', () => {
  const c = parse('--no-att', '--cbn-placement', '0,1,0,0,0', '--head-hidden', '', '--aux-cross', '1', '--aux-cross-attributes', 'age, month', '--model', 'concat', '--low');
  assert.equal(c.modules, { aux: true, low: true, att: false, high: false });
  assert.equal(c.cbnPlacement, [0, 1, 0, 0, 0]);
  assert.equal(c.headHidden, []);
  assert.equal(c.auxCrossAttributes, ['age', 'month']);
  assert.is(parse('--model', 'nima', '--aux').auxSchema!.name, 'real-ad');
});

// What a library caller reads (the field) and what a CLI user reads (the flag).
const fieldErrors: [string, () => unknown, string, RegExp][] = [
  ['size', () => validateConfig(smallConfig('m2fn', { size: 16 })), '--size', /^16 must be an integer of at least 32$/],
  ['modules.aux', () => validateConfig(smallConfig('m2fn', { modules: { aux: false, low: true, att: false, high: false } })), '--aux', /need the aux input step/],
  ['cbnPlacement', () => validateConfig(smallConfig('m2fn', { cbnPlacement: [0, 0, 0, 0, 0] })), '--cbn-placement', /has no block, but low-level fusion is on/],
  ['cbnPlacement', () => parse('--cbn-placement', '1,x'), '--cbn-placement', /^"x" is not an integer \(got "1,x"\)$/],
  ['auxSchema', () => validateConfig(smallConfig('m2fn', { auxSchema: null })), '--aux-schema', /is missing, but modules.aux is on/],
  ['auxSchema', () => parse('--aux-schema', '/nonexistent.json'), '--aux-schema', /is neither a preset/],
  ['loss', () => checkLoss('wmse', 'distribution'), '--loss', /^wmse does not fit a distribution output \(use kld or emd\)$/],
];
for (const [field, call, flag, detail] of fieldErrors) {
  test(`${field}: the library names the field, the CLI the flag ${flag}`, () => {
    let caught: unknown;
    try {
      call();
    } catch (e) {
      caught = e;
    }
    assert.instance(caught, FieldError);
    const e = caught as FieldError;
    assert.is(e.field, field);
    assert.match(e.detail, detail);
    assert.is(e.message, `${field}: ${e.detail}`);
    assert.is(cliMessage(e), `${flag}: ${e.detail}`);
  });
}

test('fields that are not config fields map to their flags: kebab case, or the override where the flag differs', () => {
  assert.is(flagFor('lr'), '--lr');
  assert.is(flagFor('batchSize'), '--batch-size');
  assert.is(flagFor('optimizer.weightDecay'), '--weight-decay');
  assert.is(flagFor('optimizer.kind'), '--optimizer');
  assert.is(flagFor('mode'), '--step');
  assert.is(cliMessage(new Error('plain')), 'plain');
});

test('fields a library message names in backquotes read as their flags at the CLI, other text as it is', () => {
  const e = new FieldError('out', 'runs/a already holds a training run; use `resume` to continue it or `force` to start over');
  assert.is(cliMessage(e), '--out: runs/a already holds a training run; use --resume to continue it or --force to start over');
  assert.is(cliMessage(new Error('overlaps its input `validation.file` v.jsonl; pick a lower `optimizer.weightDecay`')), 'overlaps its input --validation v.jsonl; pick a lower --weight-decay');
  assert.is(withFlags('install it with `npm install libsvm-js` or read `runtime/schema.ts`'), 'install it with `npm install libsvm-js` or read `runtime/schema.ts`');
  assert.is(flagFor('logs'), '--log');
});

test('a CLI prints a library field error with its flag', () => {
  const r = spawnSync(process.execPath, ['bin/m2fn-build-graph.js', '--cbn-placement', '1,0,0,0', '--size', '32', '--width', '0.125', '--out', '/nonexistent/never-written'], { encoding: 'utf8' });
  assert.is(r.status, 1);
  assert.is(r.stderr.trim(), 'm2fn-build-graph: --cbn-placement: [1,0,0,0] must be five 0/1 flags');
});

/** A copy of the schema whose rows can be changed without touching the real one (functions shared). */
function structuredCloneFields(): ConfigFields {
  const copy = {} as Record<string, unknown>;
  for (const [k, spec] of Object.entries(CONFIG_FIELDS)) copy[k] = { ...spec, ...(spec.flags ? { flags: spec.flags.map((f) => ({ ...f, ...(f.choices ? { choices: [...f.choices] } : {}) })) } : {}) };
  return copy as ConfigFields;
}

test.run();
