// Opening an ONNX Runtime session on the requested execution provider. onnxruntime-node 1.30 on
// Linux x64 bundles cpu and webgpu; webgpu needs a Vulkan loader and driver and otherwise fails
// at session creation ("No supported adapters"); cuda exists only after
// `ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js` (its
// install script, which `npm rebuild` skips where allowScripts denies it). So availability is only known
// by trying, and the fallback to cpu happens here (runtime/provider-fallback.ts).
import * as ort from 'onnxruntime-node';
import { checkIntegerOption, LIMITS } from './limits.ts';
import { openWithFallback, type OpenedWith, type ProviderPlatform } from './provider-fallback.ts';

export type ExecutionProvider = 'cpu' | 'webgpu' | 'cuda';
export const EXECUTION_PROVIDERS: readonly ExecutionProvider[] = ['cpu', 'webgpu', 'cuda'];

export interface SessionOptions {
  ep?: ExecutionProvider;
  /** On failure of a non-cpu provider, warn once and use cpu (default true). */
  fallback?: boolean;
  /** Intra-op threads for the cpu provider (ORT's default: one per physical core). */
  threads?: number;
  /**
   * ONNX Runtime's memory pattern (default on): after the first run, one block laid out for all of
   * a run's intermediate tensors. Off, they come from the arena as each is made and go back as it
   * dies. Training graphs turn it off: at 224², batch 8 it held 1.5 GB more at peak, for no gain
   * in speed (docs/performance.md).
   */
  memoryPattern?: boolean;
  /** Where outputs land ('gpu-buffer' keeps them on a WebGPU device); ignored by the cpu provider. */
  outputLocation?: ort.InferenceSession.SessionOptions['preferredOutputLocation'];
}

export type OpenedSession = OpenedWith<ExecutionProvider, ort.InferenceSession>;

const HINTS: Partial<Record<ExecutionProvider, string>> = {
  webgpu:
    'webgpu needs the Vulkan loader (libvulkan.so.1) and a Vulkan driver: on a GPU host install libvulkan1 and point VK_DRIVER_FILES at the driver\'s ICD file ' +
    '(NVIDIA: /usr/share/vulkan/icd.d/nvidia_icd.json); without a GPU, Debian\'s chromium package ships SwiftShader: ' +
    'VK_DRIVER_FILES=/usr/lib/chromium/vk_swiftshader_icd.json LD_LIBRARY_PATH=/usr/lib/chromium',
  cuda: 'cuda needs CUDA 12 and `ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js`',
};

/** What a provider needs installed, for error messages ('' when nothing is known). */
export const providerHint = (ep: ExecutionProvider): string => HINTS[ep] ?? '';

/** ORT messages start with a source path and an assertion; the reason is at the end. */
export function shortReason(message: string): string {
  const lines = message.split('\n').map((l) => l.trim()).filter(Boolean);
  const last = lines[lines.length - 1] ?? message;
  return last.replace(/^.*\bwas false\.\s*/, '').replace(/^\/onnxruntime_src\/\S+\s*/, '');
}

/**
 * Creates a session for `model` (bytes) on `opts.ep` (default cpu). `file` names the model in
 * errors. A non-cpu provider that is missing or fails: with `fallback` (default) a single stderr
 * warning per provider per process (a Node warning, code M2FN_EP_FALLBACK) and a cpu session;
 * without it, an error saying which provider failed, why, and what it needs.
 */
export async function openSession(model: Uint8Array, file: string, opts: SessionOptions = {}): Promise<OpenedSession> {
  const ep = opts.ep ?? 'cpu';
  if (!EXECUTION_PROVIDERS.includes(ep)) {
    throw new Error(`unknown execution provider ${JSON.stringify(ep)}; use one of ${EXECUTION_PROVIDERS.join(', ')}`);
  }
  if (opts.threads !== undefined) checkIntegerOption('threads', opts.threads, 1, LIMITS.threads);
  const base: ort.InferenceSession.SessionOptions = {
    ...(opts.threads ? { intraOpNumThreads: opts.threads } : {}),
    ...(opts.memoryPattern === false ? { enableMemPattern: false } : {}),
  };
  const create = (provider: ExecutionProvider) =>
    ort.InferenceSession.create(model, {
      ...base,
      executionProviders: [provider],
      ...(provider !== 'cpu' && opts.outputLocation ? { preferredOutputLocation: opts.outputLocation } : {}),
    });
  return openWithFallback(NODE, create, file, ep, opts.fallback ?? true);
}

/**
 * Opens `model` on `ep` (no fallback), runs it once on `feeds` and releases the session: each
 * output's values copied to the host (a Float32Array, or a Uint8Array for bool), and the run's
 * milliseconds. For comparisons across providers, where a session must not outlive its run.
 */
export async function runOnce(model: Uint8Array, what: string, ep: ExecutionProvider, feeds: Record<string, ort.Tensor>): Promise<{ outputs: Map<string, Float32Array | Uint8Array>; ms: number }> {
  const { session } = await openSession(model, what, { ep, fallback: false });
  try {
    const t0 = performance.now();
    const out = await session.run(feeds);
    const ms = performance.now() - t0;
    return { outputs: new Map(Object.entries(out).map(([k, t]) => [k, (t.data as Float32Array | Uint8Array).slice()])), ms };
  } finally {
    await session.release();
  }
}

/** onnxruntime-node as the fallback routine sees it. */
const NODE: ProviderPlatform<ExecutionProvider> = {
  fallbackEp: 'cpu',
  unavailable: (ep) => (ort.listSupportedBackends().some((b) => b.name === ep) ? null : `this build of onnxruntime-node has no ${ep} provider`),
  reasonOf: (e) => shortReason((e as Error).message),
  hint: providerHint,
  warn: (message) => process.emitWarning(message, { code: 'M2FN_EP_FALLBACK' }),
};
