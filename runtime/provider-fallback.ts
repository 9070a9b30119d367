// Opening a session on the execution provider a caller asked for, falling back with a reason: one
// routine for the Node runtime (runtime/execution.ts: cpu, webgpu, cuda) and the browser runtime
// (runtime/web.ts: wasm, webgpu), each passing its platform in, as runtime/scorer-common.ts does.
// A GPU provider's availability is only known by trying (a missing driver fails at session
// creation), so the routine tries it, and on failure either opens the always-present provider and
// says so once per provider per process, or, without fallback, throws what failed and what it
// needs. Pure and browser-safe: ONNX Runtime itself is reached only through `create`.

/** What a runtime tells the fallback routine about its ONNX Runtime build; one constant per runtime. */
export interface ProviderPlatform<EP extends string> {
  /** The provider that is always there and the fallback goes to (cpu in Node, wasm in the browser). */
  readonly fallbackEp: EP;
  /** Why `ep` cannot even be tried here, or null to try it. */
  unavailable(ep: EP): string | null;
  /** The reason in a session-creation error, without the runtime's wrapping. */
  reasonOf(e: unknown): string;
  /** What `ep` needs installed ('' when nothing is known). */
  hint(ep: EP): string;
  /** Tells the user about a fallback (called once per platform and provider). */
  warn(message: string): void;
}

export interface OpenedWith<EP extends string, S> {
  session: S;
  /** The provider actually in use. */
  ep: EP;
  /** Set when `ep` differs from the one requested: which failed and why. */
  fallbackFrom?: { ep: EP; reason: string };
}

/** "execution provider EP is not usable[ for FILE]: REASON[ (HINT)]", the one wording of that failure. */
export function notUsableMessage(ep: string, reason: string, hint: string, file?: string): string {
  return `execution provider ${ep} is not usable${file === undefined ? '' : ` for ${file}`}: ${reason}${hint ? ` (${hint})` : ''}`;
}

const warned = new WeakMap<object, Set<string>>();

/**
 * A session for `file` on `ep` from `create`. The fallback provider itself is opened directly (its
 * failure means the model is bad); another provider that is unavailable or fails gives, with
 * `fallback`, a session on the fallback provider (with `fallbackFrom` set, and one warning), and
 * without it an error naming the provider, the reason and what it needs.
 */
export async function openWithFallback<EP extends string, S>(
  platform: ProviderPlatform<EP>,
  create: (ep: EP) => Promise<S>,
  file: string,
  ep: EP,
  fallback: boolean,
): Promise<OpenedWith<EP, S>> {
  const modelError = (e: unknown): never => {
    throw new Error(`cannot load ONNX model ${file}: ${platform.reasonOf(e)}`, { cause: e });
  };
  const to = platform.fallbackEp;
  if (ep === to) return { session: await create(to).catch(modelError), ep };

  let reason = platform.unavailable(ep);
  if (reason === null) {
    try {
      return { session: await create(ep), ep };
    } catch (e) {
      reason = platform.reasonOf(e);
    }
  }
  const hint = platform.hint(ep);
  if (!fallback) throw new Error(`${notUsableMessage(ep, reason, hint, file)}. Use ep '${to}' or allow fallback.`);
  // A failure now means the model itself is bad, whatever the first provider's reason was.
  const session = await create(to).catch(modelError);
  const seen = warned.get(platform) ?? new Set<string>();
  warned.set(platform, seen);
  if (!seen.has(ep)) {
    seen.add(ep);
    platform.warn(`execution provider ${ep} failed (${reason})${hint ? ` (${hint})` : ''}; using ${to} instead`);
  }
  return { session, ep: to, fallbackFrom: { ep, reason } };
}
