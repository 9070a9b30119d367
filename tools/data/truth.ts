// The synthetic ad world's ground-truth CTR function. Every effect is on the logit scale and
// documented in docs/data.md; `EffectStrengths` scales each family so experiments can switch
// families off (0) or exaggerate them.
import { DOMINANT_COLOURS } from '../../runtime/schema.ts';
import { hashNormal } from '../../runtime/random.ts';

export type NamedColour = (typeof DOMINANT_COLOURS)[number];
export type TextPosition = 'top' | 'middle' | 'bottom';
export type Style = 'flat' | 'pixel' | 'photo';
export type LogoShape = 'circle' | 'square' | 'triangle' | 'star';

/** What the truth needs to know about an image (the rest of ImageSpec is for rendering). */
export interface ImageFactors {
  colour: NamedColour;
  style: Style;
  logo: LogoShape;
  textPosition: TextPosition;
  textLarge: boolean;
  /** true: text colour far from the background (WCAG contrast ≥ 7); false: a near shade. */
  highContrast: boolean;
  /** The catchphrase asks the viewer to do something ("Join…", "Build…", "Tap…"). */
  participation: boolean;
  cate3: number;
  /** The image's own unexplained appeal, a standard normal draw. */
  appeal: number;
}

/** One instance: an image shown with one combination of the log's context attributes. */
export interface InstanceKey {
  image: number;
  gender: number; // 1..2
  age: number; // 1..9
  month: number; // 1..12
  weekday: number; // 1..7
  hour: number; // 0..23
  position: number; // 1..4
}

export interface EffectStrengths {
  /** Main effects of age, hour, weekday, month, position, gender, colour, category. */
  main: number;
  /** Low-level interaction: dominant colour × season. */
  low: number;
  /** High-level interactions: text position × age band, participation phrase × age band. */
  high: number;
  /** Image-only effects: text contrast, text size, style, logo shape. */
  image: number;
  /** Unexplained variation: per-image appeal and per-instance noise. */
  noise: number;
}

export const DEFAULT_STRENGTHS: EffectStrengths = { main: 1, low: 1, high: 1, image: 1, noise: 1 };

/** Base logit: logit(0.035) ≈ -3.32, close to the paper's 4% raw click rate. */
export const BASE_LOGIT = -3.32;

/** The effect tables (logit units at strength 1). Index = level - first level. */
export const EFFECTS = {
  // Older users click more (paper Fig. 4a): a linear ramp from age 1 to age 9.
  age: [-0.3, -0.225, -0.15, -0.075, 0, 0.075, 0.15, 0.225, 0.3],
  // Higher at 2–4 AM, 9–11 AM, noon and 3–5 PM (paper §6.3).
  hour: Array.from({ length: 24 }, (_, h) =>
    h === 12 ? 0.22 : [2, 3, 4, 9, 10, 11, 15, 16, 17].includes(h) ? 0.18 : -0.08,
  ),
  // Monday … Sunday: the start and end of the week are higher.
  weekday: [0.15, 0.0, -0.1, -0.1, 0.0, 0.1, 0.15],
  // January … December: July–September lowest.
  month: [0.06, 0.05, 0.04, 0.03, 0.02, 0.0, -0.25, -0.28, -0.25, 0.02, 0.04, 0.06],
  // Ad position in the app: the first slot is seen best.
  position: [0.2, 0.05, -0.1, -0.15],
  gender: [0.0, 0.04],
  // Black, blue and brown go with higher CTR (paper §6.3); white and grey lower.
  colour: {
    black: 0.15, blue: 0.12, brown: 0.1, green: 0.0, grey: -0.1,
    multiple: 0.02, pink: -0.05, red: 0.05, white: -0.12, yellow: -0.03,
  } satisfies Record<NamedColour, number>,
  // Game category (cate3 1 RPG … 9 puzzle).
  cate3: [0.08, -0.02, 0.0, 0.06, 0.02, 0.04, -0.08, -0.04, 0.0],
  // Colour × season (winter Dec–Feb, spring Mar–May, summer Jun–Aug, autumn Sep–Nov):
  // warm colours do better in the cold seasons, cool colours in summer.
  colourSeason: {
    black: [0, 0, 0, 0], grey: [0, 0, 0, 0], multiple: [0, 0, 0, 0],
    red: [0.2, 0, -0.2, 0.1], yellow: [0.1, 0.05, -0.2, 0.15], pink: [0.15, 0.05, -0.15, 0],
    brown: [0.15, -0.05, -0.2, 0.15], blue: [-0.15, 0, 0.25, -0.05], green: [-0.1, 0.1, 0.2, -0.1],
    white: [-0.1, 0, 0.2, -0.05],
  } satisfies Record<NamedColour, number[]>,
  // Text position × age band (young 1–3, middle 4–6, old 7–9).
  textPositionAge: {
    top: [0.2, 0.05, -0.15],
    middle: [0, 0.05, 0],
    bottom: [-0.15, 0, 0.2],
  } satisfies Record<TextPosition, number[]>,
  // A catchphrase asking for participation works on young and middle users (paper Fig. 1).
  participationAge: [0.3, 0.15, -0.05],
  // Image-only effects.
  highContrast: 0.15, // added when true, subtracted when false
  textLarge: 0.05, // added when large, subtracted when small
  style: { flat: -0.05, pixel: 0.1, photo: 0.0 } satisfies Record<Style, number>,
  logo: { circle: 0.0, square: -0.04, triangle: 0.02, star: 0.08 } satisfies Record<LogoShape, number>,
  // Standard deviations of the noise terms.
  appealSd: 0.15,
  instanceSd: 0.1,
};

export function season(month: number): 0 | 1 | 2 | 3 {
  if (month === 12 || month <= 2) return 0;
  if (month <= 5) return 1;
  if (month <= 8) return 2;
  return 3;
}

export function ageBand(age: number): 0 | 1 | 2 {
  return age <= 3 ? 0 : age <= 6 ? 1 : 2;
}

/** The instance's noise: a pure function of (seed, key), so duplicated keys get the same truth. */
export function instanceNoise(seed: number, k: InstanceKey): number {
  return hashNormal(seed, k.image, k.gender, k.age, k.month, k.weekday, k.hour, k.position);
}

/**
 * The logit's terms before scaling, split by who can see them: `main`, `low` and `phrase` come
 * through the attributes (context, dominant colour, category, the OCR'd catchphrase);
 * `position` (text position × age band) and `image` only through the pixels; `noise` (per-image
 * appeal, per-instance noise) through nothing a model gets for an unseen image.
 */
export interface LogitTerms {
  main: number;
  low: number;
  phrase: number;
  position: number;
  image: number;
  noise: number;
}

export function logitTerms(img: ImageFactors, k: InstanceKey, seed: number): LogitTerms {
  const E = EFFECTS;
  const band = ageBand(k.age);
  return {
    main:
      E.age[k.age - 1] + E.hour[k.hour] + E.weekday[k.weekday - 1] + E.month[k.month - 1] +
      E.position[k.position - 1] + E.gender[k.gender - 1] + E.colour[img.colour] + E.cate3[img.cate3 - 1],
    low: E.colourSeason[img.colour][season(k.month)],
    phrase: img.participation ? E.participationAge[band] : 0,
    position: E.textPositionAge[img.textPosition][band],
    image:
      (img.highContrast ? E.highContrast : -E.highContrast) + (img.textLarge ? E.textLarge : -E.textLarge) +
      E.style[img.style] + E.logo[img.logo],
    noise: E.appealSd * img.appeal + E.instanceSd * instanceNoise(seed, k),
  };
}

/** Logit from its terms; `without` leaves families out (the oracles of tools/eval/replicate/oracle.ts). */
export function logitFromTerms(t: LogitTerms, s: EffectStrengths, without: (keyof LogitTerms)[] = []): number {
  const w = (k: keyof LogitTerms) => (without.includes(k) ? 0 : t[k]);
  return BASE_LOGIT + s.main * w('main') + s.low * w('low') + s.high * (w('phrase') + w('position')) + s.image * w('image') + s.noise * w('noise');
}

/** Ground-truth logit of an instance. */
export function truthLogit(img: ImageFactors, k: InstanceKey, seed: number, s: EffectStrengths = DEFAULT_STRENGTHS): number {
  return logitFromTerms(logitTerms(img, k, seed), s);
}

export function truthCtr(img: ImageFactors, k: InstanceKey, seed: number, s: EffectStrengths = DEFAULT_STRENGTHS): number {
  return 1 / (1 + Math.exp(-truthLogit(img, k, seed, s)));
}
