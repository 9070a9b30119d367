// The aux schema: which auxiliary attributes a model reads and how each becomes part of the aux
// vector. Layout = attributes in order; categorical → one-hot over `levels`, text → `dim` floats
// from a TextEncoder, numeric → one float ((x - mean) / std).

export type AuxAttribute =
  | {
      name: string;
      kind: 'categorical';
      levels: string[];
      /** A level that values outside `levels` map to; without it an unknown value is an error. */
      unknown?: string;
      description?: string;
    }
  | {
      name: string;
      kind: 'text';
      dim: number;
      description?: string;
    }
  | {
      name: string;
      kind: 'numeric';
      mean?: number;
      std?: number;
      description?: string;
    };

export interface AuxSchema {
  name: string;
  attributes: AuxAttribute[];
}

export function attributeDim(a: AuxAttribute): number {
  switch (a.kind) {
    case 'categorical':
      return a.levels.length;
    case 'text':
      return a.dim;
    case 'numeric':
      return 1;
  }
}

export function auxDim(schema: AuxSchema): number {
  return schema.attributes.reduce((n, a) => n + attributeDim(a), 0);
}

const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => String(from + i));

export const DOMINANT_COLOURS = [
  'black', 'blue', 'brown', 'green', 'grey', 'multiple', 'pink', 'red', 'white', 'yellow',
] as const;

/** The paper's Real-Ad attributes (Table 1): 81 one-hot dims + 3 × 768 text dims = 2385. */
export const REAL_AD_SCHEMA: AuxSchema = {
  name: 'real-ad',
  attributes: [
    { name: 'gender', kind: 'categorical', levels: ['1', '2'], description: '1 female, 2 male' },
    { name: 'age', kind: 'categorical', levels: range(1, 9), description: '1 under 14, 2 15–19, …, 9 over 50' },
    { name: 'month', kind: 'categorical', levels: range(1, 12) },
    { name: 'weekday', kind: 'categorical', levels: range(1, 7), description: '1 Monday … 7 Sunday' },
    { name: 'hour', kind: 'categorical', levels: range(0, 23) },
    { name: 'position', kind: 'categorical', levels: range(1, 4), description: 'position of the ad in the app' },
    { name: 'cate2', kind: 'categorical', levels: range(1, 4), description: '1 casual, 2 gambling, 3 mid-core, 4 core' },
    { name: 'cate3', kind: 'categorical', levels: range(1, 9), description: '1 RPG … 9 puzzle' },
    { name: 'title', kind: 'text', dim: 768 },
    { name: 'desc', kind: 'text', dim: 768 },
    { name: 'ocr', kind: 'text', dim: 768, description: 'text read from the image' },
    { name: 'domcol', kind: 'categorical', levels: [...DOMINANT_COLOURS], description: 'dominant colour' },
  ],
};

/** AVA: the two semantic tags of an image, embedded as text (paper §6.4). */
export const AVA_SCHEMA: AuxSchema = {
  name: 'ava',
  attributes: [{ name: 'tags', kind: 'text', dim: 768, description: 'semantic tag names joined by ", "' }],
};

export const SCHEMA_PRESETS: Record<string, AuxSchema> = { 'real-ad': REAL_AD_SCHEMA, ava: AVA_SCHEMA };
