// Dominant colour of an image (paper §6.3.2): K-means on its pixels in CIELAB, a robust centre
// (minimum covariance determinant) of the dominant group, mapped to the nearest of the named
// colours. Rule (docs/data.md):
//   1. flatten alpha on white, shrink to 64×64, convert pixels to CIELAB;
//   2. K-means with k = 6; name each cluster by its centre's nearest reference colour (ΔE76);
//   3. add up the pixel shares per name; if the largest share is below 45 %, the image is 'multiple';
//   4. otherwise the MCD centre (h = 75 %) of that name's pixels is the intermediate colour and
//      its nearest reference colour is the answer.
import sharp from 'sharp';
import { DEFAULT_MAX_PIXELS, rasterSource } from '../image-node.ts';
import { DOMINANT_COLOURS } from '../schema.ts';
import { rgbToLab, labToRgb, dist2, type Vec3 } from './colour-space.ts';
import { kmeans } from './kmeans.ts';
import { mcdCentre } from './mcd.ts';

export type DominantColourName = (typeof DOMINANT_COLOURS)[number];

/** The named colours' reference sRGB values (the synthetic world renders with these too). */
export const REFERENCE_RGB: Record<Exclude<DominantColourName, 'multiple'>, [number, number, number]> = {
  black: [22, 22, 24],
  blue: [36, 82, 204],
  brown: [124, 72, 32],
  green: [40, 150, 62],
  grey: [128, 128, 128],
  pink: [240, 136, 184],
  red: [212, 30, 40],
  white: [244, 244, 242],
  yellow: [242, 210, 38],
};

export const MULTIPLE_THRESHOLD = 0.45;
const SAMPLE_SIDE = 64;
const K = 6;

const REFERENCE_LAB = Object.entries(REFERENCE_RGB).map(([name, rgb]) => ({ name: name as DominantColourName, lab: rgbToLab(rgb) }));

export function nearestNamedColour(lab: Vec3): DominantColourName {
  let best = REFERENCE_LAB[0];
  for (const r of REFERENCE_LAB) if (dist2(lab, r.lab) < dist2(lab, best.lab)) best = r;
  return best.name;
}

export interface DominantColour {
  colour: DominantColourName;
  /** Pixel share of the winning name (before the 'multiple' rule). */
  share: number;
  /** The MCD centre of the dominant group, as sRGB (rounded). */
  centreRgb: Vec3;
  shares: Partial<Record<DominantColourName, number>>;
}

/** Dominant colour from raw RGB pixels (3 bytes per pixel). */
export function dominantColourOfPixels(rgb: Uint8Array | Buffer): DominantColour {
  const n = Math.floor(rgb.length / 3);
  if (n === 0) throw new Error('dominant colour: image has no pixels');
  const lab: Vec3[] = new Array(n);
  for (let i = 0; i < n; i++) lab[i] = rgbToLab([rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2]]);
  const km = kmeans(lab, K, 7);
  const names = km.centres.map(nearestNamedColour);
  const shares: Partial<Record<DominantColourName, number>> = {};
  km.sizes.forEach((s, c) => { shares[names[c]] = (shares[names[c]] ?? 0) + s / n; });
  const [top, share] = Object.entries(shares).sort((a, b) => b[1] - a[1])[0] as [DominantColourName, number];
  const members = lab.filter((_, i) => names[km.assignment[i]] === top);
  const centre = mcdCentre(members, 0.75, 11).centre;
  const centreRgb = labToRgb(centre).map(Math.round) as Vec3;
  const colour = share < MULTIPLE_THRESHOLD ? 'multiple' : nearestNamedColour(centre);
  return { colour, share, centreRgb, shares };
}

/**
 * Dominant colour of an encoded image (PNG, JPEG, WebP …) or a file path, checked as the scorer
 * checks its images (rasterSource: a regular file, a raster format, at most `maxPixels`).
 */
export async function dominantColour(input: Buffer | string, maxPixels = DEFAULT_MAX_PIXELS): Promise<DominantColour> {
  const { src } = await rasterSource(input, maxPixels);
  const { data } = await sharp(src, { limitInputPixels: maxPixels })
    .flatten({ background: '#ffffff' })
    .resize(SAMPLE_SIDE, SAMPLE_SIDE, { fit: 'fill' })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return dominantColourOfPixels(data);
}
