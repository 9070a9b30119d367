// How much of an explanation map falls where the synthetic world planted an image effect: the
// catchphrase's text band, whose position (top, middle, bottom) changes CTR by age band
// (tools/data/truth.ts). The measure is the lift of the band:
//
//   lift = (mass of the map in the band / total mass) / (band rows / all rows)
//
// A map that puts its weight at random positions (independently of where the band is) has
// expected lift 1; a map concentrated in the band has lift 1 / (band fraction). Mass counts each
// map cell by the share of its rows that lie inside the band.

/** Fraction of the map's (non-negative) mass inside rows [top, bottom) given as fractions of the height. */
export function bandMass(map: ArrayLike<number>, h: number, w: number, top: number, bottom: number): number {
  let inside = 0;
  let total = 0;
  for (let y = 0; y < h; y++) {
    const overlap = Math.max(0, Math.min(bottom, (y + 1) / h) - Math.max(top, y / h)) * h;
    for (let x = 0; x < w; x++) {
      const v = Math.max(0, map[y * w + x]);
      total += v;
      inside += overlap * v;
    }
  }
  return total > 0 ? inside / total : NaN;
}

export function bandLift(map: ArrayLike<number>, h: number, w: number, top: number, bottom: number): number {
  return bandMass(map, h, w, top, bottom) / (bottom - top);
}
