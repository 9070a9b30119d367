// Learning-rate schedules against values worked out by hand (in the comments).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { near, throwsMatching } from './assertions.ts';
import { learningRate, parseSchedule } from '../../tools/train/schedule.ts';

test('constant', () => {
  for (const s of [0, 7, 999]) assert.is(learningRate(0.01, { kind: 'constant' }, s, 1000), 0.01);
});

test('step decay: base · gamma^floor(step / stepSize)', () => {
  const s = { kind: 'step', stepSize: 1000, gamma: 0.5 } as const;
  assert.is(learningRate(0.1, s, 0, 5000), 0.1);
  assert.is(learningRate(0.1, s, 999, 5000), 0.1);
  assert.is(learningRate(0.1, s, 1000, 5000), 0.05);
  assert.is(learningRate(0.1, s, 2999, 5000), 0.025);
  assert.is(learningRate(0.1, s, 3000, 5000), 0.0125);
});

test('cosine with warm-up: linear ramp, then half a cosine to minLr', () => {
  // base 1, warmup 4, total 14 → decay over 10 steps.
  const s = { kind: 'cosine', warmup: 4 } as const;
  assert.is(learningRate(1, s, 0, 14), 0.25); // (0+1)/4
  assert.is(learningRate(1, s, 1, 14), 0.5);
  assert.is(learningRate(1, s, 3, 14), 1); // (3+1)/4: warm-up ends at the base rate
  near(learningRate(1, s, 4, 14), 1, 1e-15, 't=0');
  near(learningRate(1, s, 9, 14), 0.5, 1e-15, 't=1/2'); // (1 + cos(π/2))/2
  near(learningRate(1, s, 6, 14), 0.9045084971874737, 1e-15, 't=1/5'); // (1 + cos(π/5))/2 = (1 + 0.80901699…)/2
  near(learningRate(1, s, 13, 14), (1 + Math.cos(0.9 * Math.PI)) / 2, 1e-15, 'last step'); // 0.0244717…
  near(learningRate(1, s, 13, 14), 0.024471741852423234, 1e-15, 'last step literal');
  assert.is(learningRate(1, s, 14, 14), 0); // t = 1 → minLr
  assert.is(learningRate(1, s, 50, 14), 0); // past the end: stays at minLr
});

test('cosine with minLr and without warm-up', () => {
  const s = { kind: 'cosine', warmup: 0, minLr: 0.1 } as const;
  near(learningRate(1.1, s, 0, 100), 1.1, 1e-15);
  // t = 1/2 → 0.1 + 1.0·0.5 = 0.6; t = 1/4 → 0.1 + (1 + √½)/2 = 0.95355339…
  near(learningRate(1.1, s, 50, 100), 0.6, 1e-15);
  near(learningRate(1.1, s, 25, 100), 0.9535533905932737, 1e-15);
  near(learningRate(1.1, s, 100, 100), 0.1, 1e-15);
});

test('learningRate rejects bad arguments', () => {
  throwsMatching(() => learningRate(0, { kind: 'constant' }, 0, 10), /base learning rate must be a positive number, got 0/, 'base');
  throwsMatching(() => learningRate(1, { kind: 'constant' }, 1.5, 10), /step must be a non-negative integer, got 1.5/, 'step');
  throwsMatching(() => learningRate(1, { kind: 'cosine', warmup: 10 }, 0, 10), /warmup \(10 steps\) must be shorter than the run \(10 steps\); use a shorter warm-up, e\.g\. cosine:warmup=1/, 'warmup');
  throwsMatching(() => learningRate(1, { kind: 'cosine', warmup: 0, minLr: 2 }, 0, 10), /minLr 2 is above the base learning rate 1/, 'minLr');
  throwsMatching(() => learningRate(1, { kind: 'step', stepSize: 0, gamma: 0.5 }, 0, 10), /stepSize must be a positive integer/, 'stepSize');
});

test('parseSchedule accepts the documented CLI forms', () => {
  assert.equal(parseSchedule('constant'), { kind: 'constant' });
  assert.equal(parseSchedule('step:1000:0.5'), { kind: 'step', stepSize: 1000, gamma: 0.5 });
  assert.equal(parseSchedule('cosine'), { kind: 'cosine', warmup: 0 });
  assert.equal(parseSchedule('cosine:warmup=200'), { kind: 'cosine', warmup: 200 });
  assert.equal(parseSchedule('cosine:warmup=200:min=1e-6'), { kind: 'cosine', warmup: 200, minLr: 1e-6 });
  assert.equal(parseSchedule('cosine:min=0.001:warmup=5'), { kind: 'cosine', warmup: 5, minLr: 0.001 });
});

test('parseSchedule gives clear errors for anything else', () => {
  const cases: [string, RegExp][] = [
    ['', /unknown schedule ""/],
    ['linear', /unknown schedule "linear"; accepted forms: "constant"/],
    ['constant:3', /"constant" takes no parameters/],
    ['step:1000', /"step" needs exactly a step size and a factor/],
    ['step:abc:0.5', /step size "abc" is not a number/],
    ['step:10.5:0.5', /stepSize must be a positive integer, got 10.5/],
    ['step:100:-1', /gamma must be a positive number, got -1/],
    ['cosine:200', /"200" is not key=value/],
    ['cosine:warmup=', /warmup "" is not a number/],
    ['cosine:warmup=-3', /warmup must be a non-negative integer, got -3/],
    ['cosine:warmup=1:warmup=2', /"warmup" is given twice/],
    ['cosine:decay=2', /unknown cosine parameter "decay"/],
  ];
  for (const [spec, re] of cases) throwsMatching(() => parseSchedule(spec), re, JSON.stringify(spec));
});

test.run();
