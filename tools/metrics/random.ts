// A small seeded uniform generator, so bootstrap intervals (and tests) are reproducible.
// A Weyl sequence (add the golden-ratio constant) passed through a 32-bit integer mixer;
// plenty for resampling indices, not for cryptography.
export function seededUniform(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    z ^= z >>> 16;
    return (z >>> 0) / 4294967296; // [0, 1)
  };
}
