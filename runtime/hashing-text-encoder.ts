// The default text encoder: signed feature hashing, so text attributes work offline, in tests and
// in the browser without downloading an embedding model. Its vectors carry lexical overlap only
// (shared words and word pieces), not meaning; apps that need semantics bring their own encoder.
import type { TextEncoder } from './text.ts';
import { fmix32 } from './random.ts';

export const HASHING_TEXT_ENCODER_ID = 'hashing-v1';

/**
 * Features of a text: lower-cased (NFKC) word unigrams, word bigrams and character trigrams of
 * each word padded with "#" at both ends (so short words and word edges count, and scripts that
 * do not separate words by spaces, such as Korean compounds, still share features). Words are
 * runs of Unicode letters and digits. Each feature adds ±1 at a hashed position; the vector is
 * L2-normalised. Deterministic across platforms: the hash reads UTF-16 code units only.
 *
 * The id stays "hashing-v1" whatever `dim` is: the dim is checked separately against the schema,
 * and any change to the features or hash must get a new id, since models are trained on it.
 */
export class HashingTextEncoder implements TextEncoder {
  readonly id = HASHING_TEXT_ENCODER_ID;
  readonly dim: number;

  constructor(opts: { dim?: number } = {}) {
    const dim = opts.dim ?? 768;
    if (!Number.isInteger(dim) || dim <= 0) throw new Error(`HashingTextEncoder: dim must be a positive integer, got ${dim}`);
    this.dim = dim;
  }

  async encode(texts: string[]): Promise<Float32Array[]> {
    return texts.map((t) => this.encodeOne(t));
  }

  encodeOne(text: string): Float32Array {
    const v = new Float32Array(this.dim);
    for (const f of features(text)) {
      const h = hash32(f);
      // The index uses the low bits and the sign the top bit, so the two are independent.
      v[h % this.dim] += h & 0x80000000 ? -1 : 1;
    }
    let norm = 0;
    for (let i = 0; i < v.length; i++) norm += v[i] * v[i];
    if (norm > 0) {
      const inv = 1 / Math.sqrt(norm);
      for (let i = 0; i < v.length; i++) v[i] *= inv;
    }
    return v;
  }
}

/** The words of a text as the encoder sees them. */
export function words(text: string): string[] {
  return text.normalize('NFKC').toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

function* features(text: string): Generator<string> {
  const ws = words(text);
  for (let i = 0; i < ws.length; i++) {
    yield `w:${ws[i]}`;
    if (i + 1 < ws.length) yield `b:${ws[i]} ${ws[i + 1]}`;
    const chars = Array.from(`#${ws[i]}#`);
    for (let j = 0; j + 3 <= chars.length; j++) yield `c:${chars[j]}${chars[j + 1]}${chars[j + 2]}`;
  }
}

/** FNV-1a over UTF-16 code units, then murmur3's finaliser to spread the bits. */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return fmix32(h);
}
