// The fallback routine both runtimes open sessions through, on a scripted platform: which
// provider each request ends on, the reason kept, the single warning, and the errors' wording
// (test/runtime/node.test.ts and test/web/browser.test.ts check the real providers).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { notUsableMessage, openWithFallback, type ProviderPlatform } from '../../runtime/provider-fallback.ts';

type Ep = 'base' | 'gpu' | 'npu';

/** A platform where `gpu` fails at session creation, `npu` is not built in, and `base` fails only for a bad model. */
function scripted() {
  const warnings: string[] = [];
  const tried: Ep[] = [];
  const platform: ProviderPlatform<Ep> = {
    fallbackEp: 'base',
    unavailable: (ep) => (ep === 'npu' ? 'no npu in this build' : null),
    reasonOf: (e) => (e as Error).message.replace(/^wrapped: /, ''),
    hint: (ep) => (ep === 'gpu' ? 'install a driver' : ''),
    warn: (m) => warnings.push(m),
  };
  const create = (model: string) => async (ep: Ep) => {
    tried.push(ep);
    if (ep === 'gpu') throw new Error('wrapped: no adapter');
    if (model === 'bad') throw new Error('wrapped: protobuf parsing failed');
    return `${model}@${ep}`;
  };
  return { platform, create, warnings, tried };
}

test('each request ends on the provider it should, with the reason kept', async () => {
  const s = scripted();
  const cases: [Ep, string, { ep: Ep; reason?: string }, Ep[]][] = [
    ['base', 'm', { ep: 'base' }, ['base']],
    ['gpu', 'm', { ep: 'base', reason: 'no adapter' }, ['gpu', 'base']],
    ['npu', 'm', { ep: 'base', reason: 'no npu in this build' }, ['base']],
  ];
  for (const [ep, model, want, tried] of cases) {
    s.tried.length = 0;
    const o = await openWithFallback(s.platform, s.create(model), 'm.onnx', ep, true);
    assert.is(o.session, `${model}@${want.ep}`, ep);
    assert.is(o.ep, want.ep);
    assert.equal(o.fallbackFrom, want.reason === undefined ? undefined : { ep, reason: want.reason });
    assert.equal(s.tried, tried, `${ep}: providers tried`);
  }
});

test('one warning per provider and platform, naming the reason and the hint', async () => {
  const s = scripted();
  for (let i = 0; i < 3; i++) await openWithFallback(s.platform, s.create('m'), 'm.onnx', 'gpu', true);
  await openWithFallback(s.platform, s.create('m'), 'm.onnx', 'npu', true);
  assert.equal(s.warnings, [
    'execution provider gpu failed (no adapter) (install a driver); using base instead',
    'execution provider npu failed (no npu in this build); using base instead',
  ]);
  const other = scripted(); // another runtime's platform warns for itself
  await openWithFallback(other.platform, other.create('m'), 'm.onnx', 'gpu', true);
  assert.is(other.warnings.length, 1);
});

test('without fallback, or with a bad model, the errors say what failed', async () => {
  const s = scripted();
  const message = (p: Promise<unknown>) => p.then(() => 'resolved', (e: Error) => e.message);
  assert.is(await message(openWithFallback(s.platform, s.create('m'), 'm.onnx', 'gpu', false)), "execution provider gpu is not usable for m.onnx: no adapter (install a driver). Use ep 'base' or allow fallback.");
  assert.equal(s.tried, ['gpu'], 'no fallback session is opened');
  for (const ep of ['base', 'gpu'] as const) {
    assert.is(await message(openWithFallback(s.platform, s.create('bad'), 'bad.onnx', ep, true)), 'cannot load ONNX model bad.onnx: protobuf parsing failed');
  }
  assert.is(notUsableMessage('gpu', 'no adapter', ''), 'execution provider gpu is not usable: no adapter');
});

test.run();
