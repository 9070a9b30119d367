// How far a float tensor is from a reference: the relative L2 difference every provider and
// form comparison here uses (test/webgpu, check:gpu-step, gpu-bisect, bench:conv-grad).

export interface Difference {
  /** ‖x − ref‖₂ / ‖ref‖₂ (0 when both are exactly zero, ∞ when only ref is). */
  rel: number;
  /** ‖ref‖₂, so a caller can tell a zero-by-construction tensor from a real one. */
  norm: number;
  /** ‖x − ref‖₂. */
  abs: number;
  /** The worst single element's difference relative to ref's largest magnitude. */
  element: number;
  size: number;
}

export function difference(ref: Float32Array, x: Float32Array): Difference {
  if (ref.length !== x.length) throw new Error(`difference: length ${ref.length} vs ${x.length}`);
  let [sq, norm, worst, largest] = [0, 0, 0, 0];
  for (let i = 0; i < ref.length; i++) {
    const e = x[i] - ref[i];
    sq += e * e;
    norm += ref[i] * ref[i];
    worst = Math.max(worst, Math.abs(e));
    largest = Math.max(largest, Math.abs(ref[i]));
  }
  const rel = norm > 0 ? Math.sqrt(sq / norm) : sq > 0 ? Infinity : 0;
  return { rel, norm: Math.sqrt(norm), abs: Math.sqrt(sq), element: worst / Math.max(1e-6, largest), size: ref.length };
}
