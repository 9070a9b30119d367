// The synthetic ad world: a catalogue of ad images (their visual factors, item categories, titles
// and descriptions) and the traffic that shows them. Everything is drawn from one seed.
import { DOMINANT_COLOURS } from '../../runtime/schema.ts';
import { Categorical, Rng } from '../../runtime/random.ts';
import { REFERENCE_RGB } from '../../runtime/extract/dominant-colour.ts';
import type { ImageFactors, LogoShape, NamedColour, Style, TextPosition } from './truth.ts';

export interface ImageSpec extends ImageFactors {
  /** File name inside the images directory, also the log's `image` value. */
  file: string;
  index: number;
  catchphrase: string;
  cate2: number;
  title: string;
  desc: string;
  /** Background RGB (for 'multiple': the stripe colours). */
  background: [number, number, number][];
  textColour: [number, number, number];
  product: 'gem' | 'shield' | 'potion';
  brand: string;
  /** Relative share of traffic (heavy-tailed across images). */
  popularity: number;
}

/** Reference RGB of each named colour; renderers jitter around it, the colour extractor maps to it. */
export const SOLID_COLOURS = Object.keys(REFERENCE_RGB) as Exclude<NamedColour, 'multiple'>[];

export const PARTICIPATION_PHRASES = [
  'Join the battle now', 'Build your own castle', 'Change your hero outfit', 'Tap to play with friends',
  'Create your dream team', 'Choose your champion', 'Help the village today', 'Design your own world',
];
export const PLAIN_PHRASES = [
  'Epic fantasy adventure', 'The best puzzle game', 'Legendary heroes await', 'Fast racing action',
  'Classic casino fun', 'A world of magic', 'Top rated strategy', 'Endless dungeon quest',
];

/** cate3 → cate2 (1 casual, 2 gambling, 3 mid-core, 4 core). */
export const CATE2_OF_CATE3: Record<number, number> = { 1: 4, 2: 3, 3: 3, 4: 4, 5: 3, 6: 4, 7: 2, 8: 1, 9: 1 };
const GENRE = ['RPG', 'sports', 'simulation', 'action', 'adventure', 'strategy', 'casino', 'casual', 'puzzle'];
const TITLE_WORDS_A = ['Dragon', 'Star', 'Pixel', 'Crystal', 'Shadow', 'Royal', 'Lucky', 'Iron', 'Candy', 'Storm'];
const TITLE_WORDS_B = ['Kingdom', 'Legends', 'Quest', 'Arena', 'Tycoon', 'Saga', 'Slots', 'Heroes', 'Match', 'League'];
const DESC_VERBS = ['explore', 'conquer', 'build', 'collect', 'race through', 'match', 'defend', 'discover'];
const DESC_OBJECTS = ['ancient ruins', 'a floating city', 'colourful gems', 'rival clans', 'a lucky casino', 'hidden islands'];

/** Traffic marginals of the context attributes (index = level - first level). */
export const TRAFFIC = {
  gender: [0.45, 0.55],
  age: [0.04, 0.1, 0.15, 0.17, 0.16, 0.13, 0.1, 0.08, 0.07],
  month: Array(12).fill(1),
  weekday: [1, 1, 1, 1, 1.05, 1.1, 1.1],
  // Less traffic at night, peak in the evening.
  hour: [0.9, 0.7, 0.5, 0.4, 0.35, 0.4, 0.6, 0.8, 0.9, 1, 1, 1.05, 1.1, 1, 1, 1, 1.05, 1.1, 1.2, 1.3, 1.35, 1.3, 1.2, 1.05],
  position: [0.4, 0.3, 0.2, 0.1],
};

export interface World {
  seed: number;
  images: ImageSpec[];
}

const clamp255 = (v: number) => Math.max(0, Math.min(255, Math.round(v)));
function jitter(rng: Rng, rgb: [number, number, number], amount: number): [number, number, number] {
  const d = (rng.next() * 2 - 1) * amount; // shared brightness shift keeps the hue
  return rgb.map((c) => clamp255(c + d + (rng.next() * 2 - 1) * amount * 0.5)) as [number, number, number];
}

/** Relative luminance and contrast ratio (WCAG), used to pick legible or deliberately weak text. */
function luminance([r, g, b]: [number, number, number]): number {
  const lin = (c: number) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}
export function contrastRatio(a: [number, number, number], b: [number, number, number]): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

function textColourFor(rng: Rng, bg: [number, number, number], high: boolean): [number, number, number] {
  if (high) {
    const white: [number, number, number] = [255, 255, 255];
    const black: [number, number, number] = [0, 0, 0];
    return contrastRatio(white, bg) >= contrastRatio(black, bg) ? white : black;
  }
  // A near shade: shift brightness by about 45 levels toward the middle.
  const lighter = luminance(bg) < 0.4;
  const shift = (lighter ? 1 : -1) * (40 + rng.int(15));
  return bg.map((c) => clamp255(c + shift)) as [number, number, number];
}

export function generateWorld(seed: number, imageCount: number): World {
  const rng = new Rng(seed);
  const colourDist = new Categorical(DOMINANT_COLOURS.map((c) => (c === 'multiple' ? 1.3 : 1)));
  const cate3Dist = new Categorical([1.2, 0.8, 1, 1.1, 0.9, 1, 0.8, 1.2, 1]);
  const styles: Style[] = ['flat', 'pixel', 'photo'];
  const logos: LogoShape[] = ['circle', 'square', 'triangle', 'star'];
  const positions: TextPosition[] = ['top', 'middle', 'bottom'];
  const products = ['gem', 'shield', 'potion'] as const;
  const images: ImageSpec[] = [];
  for (let i = 0; i < imageCount; i++) {
    const colour = DOMINANT_COLOURS[colourDist.sample(rng.next())];
    const background =
      colour === 'multiple'
        ? pickDistinct(rng, SOLID_COLOURS, 3 + rng.int(2)).map((c) => jitter(rng, REFERENCE_RGB[c], 10))
        : [jitter(rng, REFERENCE_RGB[colour], 14)];
    const highContrast = rng.bool(0.6);
    const participation = rng.bool(0.4);
    const cate3 = cate3Dist.sample(rng.next()) + 1;
    const a = rng.pick(TITLE_WORDS_A);
    const b = rng.pick(TITLE_WORDS_B);
    images.push({
      file: `ad-${String(i).padStart(5, '0')}.png`,
      index: i,
      colour,
      style: rng.pick(styles),
      logo: rng.pick(logos),
      textPosition: rng.pick(positions),
      textLarge: rng.bool(0.5),
      highContrast,
      participation,
      cate3,
      cate2: CATE2_OF_CATE3[cate3],
      appeal: rng.normal(),
      catchphrase: rng.pick(participation ? PARTICIPATION_PHRASES : PLAIN_PHRASES),
      title: `${a} ${b} ${GENRE[cate3 - 1] === 'RPG' ? 'RPG' : ''}`.trim(),
      desc: `A ${GENRE[cate3 - 1]} game where you ${rng.pick(DESC_VERBS)} ${rng.pick(DESC_OBJECTS)}.`,
      background,
      textColour: textColourFor(rng, background[0], highContrast),
      product: rng.pick(products),
      brand: a[0],
      // Log-normal popularity: a few images get most of the traffic.
      popularity: Math.exp(1.0 * rng.normal()),
    });
  }
  return { seed, images };
}

function pickDistinct<T>(rng: Rng, xs: readonly T[], n: number): T[] {
  const pool = [...xs];
  const out: T[] = [];
  while (out.length < n && pool.length) out.push(pool.splice(rng.int(pool.length), 1)[0]);
  return out;
}
