// Whether a GPU provider can open a session at all, asked in a child process: a missing Vulkan
// loader or adapter makes the provider print native warnings on stderr and fail session creation;
// asking first turns that into one clear error before any graph is built or file written.
import { spawnSync } from 'node:child_process';
import { input } from '../../graph/core/ir.ts';
import { relu } from '../../graph/ops/elementwise.ts';
import { serialize } from '../../graph/core/serialize.ts';
import { providerHint, shortReason, type ExecutionProvider } from '../../runtime/execution.ts';
import { notUsableMessage } from '../../runtime/provider-fallback.ts';

const CHILD = `
import * as ort from 'onnxruntime-node';
const [ep, model] = process.argv.slice(1);
try {
  const s = await ort.InferenceSession.create(Buffer.from(model, 'base64'), { executionProviders: [ep] });
  await s.release();
  process.stdout.write('ok');
} catch (e) {
  process.stdout.write(e.message);
}`;

/** Throws `execution provider EP is not usable: REASON (what to install)` unless `ep` works here. */
export function assertProviderUsable(ep: ExecutionProvider): void {
  if (ep === 'cpu') return;
  const x = input('x', 'float32', [4]);
  const model = Buffer.from(serialize({ name: 'probe', inputs: [x], outputs: [relu(x).named('y')] })).toString('base64');
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', CHILD, ep, model], { encoding: 'utf8', timeout: 120_000 });
  if (r.stdout === 'ok') return;
  const reason = r.stdout ? shortReason(r.stdout) : `the probe process ${r.signal ? `was killed by ${r.signal}` : `exited with status ${r.status}`}`;
  throw new Error(notUsableMessage(ep, reason, providerHint(ep)));
}
