// Turns an app's attribute record into the model's aux vector, following the card's aux schema.
// No Node APIs here: the browser runtime reuses this module.
import { attributeDim, auxDim, type AuxAttribute, type AuxSchema } from './schema.ts';
import type { TextEncoder } from './text.ts';
import { M2fnInputError } from './errors.ts';
import { editDistance } from './strings.ts';
import { LIMITS } from './limits.ts';

export type Attributes = Record<string, unknown>;

const KINDS = ['categorical', 'text', 'numeric'] as const;

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const fmt = (v: unknown): string => {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'bigint') return `${v}n`;
  if (v === undefined || typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return Object.prototype.toString.call(v);
  }
};

/**
 * Checks that `json` is a well-formed aux schema and returns it typed. `source` names where it
 * came from (a file path, "card inference.card.json") so the error can point there; each error
 * also names the attribute (by index and name) and the problem.
 */
export function validateSchema(json: unknown, source: string): AuxSchema {
  const fail = (what: string): never => {
    throw new Error(`invalid aux schema in ${source}: ${what}`);
  };
  if (!isRecord(json)) fail(`expected an object, got ${fmt(json)}`);
  const obj = json as Record<string, unknown>;
  if (typeof obj.name !== 'string' || obj.name === '') fail(`"name" must be a non-empty string, got ${fmt(obj.name)}`);
  if (!Array.isArray(obj.attributes) || obj.attributes.length === 0) {
    fail(`"attributes" must be a non-empty array, got ${fmt(obj.attributes)}`);
  }
  const seen = new Set<string>();
  const attributes = (obj.attributes as unknown[]).map((raw, i): AuxAttribute => {
    const label = isRecord(raw) && typeof raw.name === 'string' ? `attribute #${i} "${raw.name}"` : `attribute #${i}`;
    const bad = (what: string): never => fail(`${label}: ${what}`);
    if (!isRecord(raw)) return bad(`expected an object, got ${fmt(raw)}`);
    const { name, kind, description } = raw;
    if (typeof name !== 'string' || name === '') return bad(`"name" must be a non-empty string, got ${fmt(name)}`);
    if (seen.has(name)) bad('duplicate name (each attribute must appear once)');
    seen.add(name);
    if (description !== undefined && typeof description !== 'string') bad(`"description" must be a string`);
    const desc = description === undefined ? {} : { description: description as string };
    switch (kind) {
      case 'categorical': {
        const { levels, unknown } = raw;
        if (!Array.isArray(levels) || levels.length === 0) return bad(`"levels" must be a non-empty array of strings, got ${fmt(levels)}`);
        levels.forEach((l, j) => {
          if (typeof l !== 'string') bad(`level #${j} must be a string, got ${fmt(l)}`);
        });
        const dup = levels.find((l, j) => levels.indexOf(l) !== j);
        if (dup !== undefined) bad(`level ${fmt(dup)} appears twice`);
        if (unknown !== undefined && !levels.includes(unknown)) {
          bad(`"unknown" is ${fmt(unknown)}, which is not one of its levels [${levels.join(', ')}]`);
        }
        return { name, kind, levels: [...levels] as string[], ...(unknown === undefined ? {} : { unknown: unknown as string }), ...desc };
      }
      case 'text': {
        const { dim } = raw;
        if (typeof dim !== 'number' || !Number.isInteger(dim) || dim <= 0) bad(`"dim" must be a positive integer, got ${fmt(dim)}`);
        return { name, kind, dim: dim as number, ...desc };
      }
      case 'numeric': {
        const { mean, std } = raw;
        if (mean !== undefined && (typeof mean !== 'number' || !Number.isFinite(mean))) bad(`"mean" must be a finite number, got ${fmt(mean)}`);
        if (std !== undefined && (typeof std !== 'number' || !Number.isFinite(std) || std <= 0)) {
          bad(`"std" must be a positive finite number, got ${fmt(std)}`);
        }
        return {
          name, kind,
          ...(mean === undefined ? {} : { mean: mean as number }),
          ...(std === undefined ? {} : { std: std as number }),
          ...desc,
        };
      }
      default:
        return bad(`"kind" must be one of ${KINDS.join(', ')}, got ${fmt(kind)}`);
    }
  });
  return { name: obj.name as string, attributes };
}

/** Offsets of each attribute's slice in the aux vector, in schema order. */
export function attributeOffsets(schema: AuxSchema): number[] {
  const offsets: number[] = [];
  let at = 0;
  for (const a of schema.attributes) {
    offsets.push(at);
    at += attributeDim(a);
  }
  return offsets;
}

/**
 * Encodes one record of attributes into the aux vector (length `auxDim(schema)`).
 *
 * Rules — strict, because a silently wrong aux vector gives a plausible but wrong score:
 * - categorical: the value is compared as a string, so `1` and `"1"` are the same level. A value
 *   outside `levels` is an error naming the attribute, the value and the allowed levels — unless
 *   the attribute declares an `unknown` level, which then gets the one-hot. A missing value
 *   (absent, `undefined` or `null`) is an error.
 * - numeric: `(x - mean) / std` (mean 0 and std 1 when the schema gives none). A missing value,
 *   a non-number (strings included), a non-finite number, or one that overflows float32 once
 *   standardised is an error.
 * - text: encoded by `encoder`; a missing, `null` or blank string gives a zero vector, which is
 *   what "no text" meant in training. A non-string, or one over LIMITS.textChars, is an error.
 *   The encoder's `dim` must equal the attribute's `dim`.
 * - a key that is not in the schema is an error (it is almost always a typo), naming the key and
 *   listing the known ones.
 */
export async function encodeAttributes(schema: AuxSchema, attrs: Attributes, encoder: TextEncoder): Promise<Float32Array> {
  return encodeRows(schema, [attrs], encoder, () => '');
}

/**
 * Encodes `records` into one [records.length × auxDim] row-major Float32Array. All texts of the
 * batch go to the encoder in a single `encode` call, since model-backed encoders are far cheaper
 * batched. Same rules as `encodeAttributes`; errors name the record as "item #k", counting from
 * `firstIndex` (default 0) so a caller working through a long list in batches can name the item.
 */
export async function encodeAttributesBatch(
  schema: AuxSchema,
  records: Attributes[],
  encoder: TextEncoder,
  opts: { firstIndex?: number } = {},
): Promise<Float32Array> {
  const first = opts.firstIndex ?? 0;
  return encodeRows(schema, records, encoder, (r) => `item #${first + r}: `);
}

async function encodeRows(
  schema: AuxSchema,
  records: Attributes[],
  encoder: TextEncoder,
  label: (row: number) => string,
): Promise<Float32Array> {
  const dim = auxDim(schema);
  const out = new Float32Array(records.length * dim);
  const offsets = attributeOffsets(schema);
  const known = new Map(schema.attributes.map((a, i) => [a.name, i]));
  for (const a of schema.attributes) {
    if (a.kind === 'text' && a.dim !== encoder.dim) {
      throw new Error(`text encoder "${encoder.id}" makes ${encoder.dim}-d vectors but text attribute "${a.name}" of schema "${schema.name}" needs ${a.dim}`);
    }
  }
  const texts: string[] = [];
  const textSlots: number[] = [];
  records.forEach((rec, r) => {
    const where = label(r);
    const fail = (what: string): never => {
      throw new M2fnInputError(`${where}${what}`);
    };
    if (!isRecord(rec)) fail(`attributes must be an object of name → value, got ${fmt(rec)}`);
    for (const key of Object.keys(rec)) {
      if (!known.has(key)) {
        const guess = closest(key, [...known.keys()]);
        fail(`unknown attribute "${key}"${guess ? ` (did you mean "${guess}"?)` : ''} (schema "${schema.name}" has: ${[...known.keys()].join(', ')})`);
      }
    }
    const row = r * dim;
    schema.attributes.forEach((a, i) => {
      const v = rec[a.name];
      const at = row + offsets[i];
      switch (a.kind) {
        case 'categorical': {
          if (v === undefined || v === null) fail(`missing value for categorical attribute "${a.name}" (levels: ${a.levels.join(', ')})`);
          if (!['string', 'number', 'bigint', 'boolean'].includes(typeof v)) {
            fail(`attribute "${a.name}" must be a string or number, got ${fmt(v)}`);
          }
          let level = a.levels.indexOf(String(v));
          if (level < 0 && a.unknown !== undefined) level = a.levels.indexOf(a.unknown);
          if (level < 0) fail(`attribute "${a.name}" has unknown value ${fmt(v)}; allowed levels: ${a.levels.join(', ')}`);
          out[at + level] = 1;
          break;
        }
        case 'numeric': {
          if (v === undefined || v === null) fail(`missing value for numeric attribute "${a.name}"`);
          if (typeof v !== 'number' || !Number.isFinite(v)) fail(`attribute "${a.name}" must be a finite number, got ${fmt(v)}`);
          out[at] = ((v as number) - (a.mean ?? 0)) / (a.std ?? 1);
          // A finite double can still overflow the float32 the model reads (1e308 → Infinity).
          if (!Number.isFinite(out[at])) {
            fail(`attribute "${a.name}" is ${fmt(v)}, which overflows float32 once standardised ((x − ${a.mean ?? 0}) / ${a.std ?? 1})`);
          }
          break;
        }
        case 'text': {
          if (v === undefined || v === null) break;
          if (typeof v !== 'string') fail(`text attribute "${a.name}" must be a string, got ${fmt(v)}`);
          if ((v as string).length > LIMITS.textChars) {
            fail(`text attribute "${a.name}" is ${(v as string).length} characters, more than ${LIMITS.textChars} (the limit on text length)`);
          }
          if ((v as string).trim() === '') break;
          texts.push(v as string);
          textSlots.push(at);
          break;
        }
      }
    });
  });
  if (texts.length > 0) {
    const vecs = await encoder.encode(texts);
    if (vecs.length !== texts.length) {
      throw new Error(`text encoder "${encoder.id}" returned ${vecs.length} vectors for ${texts.length} texts`);
    }
    vecs.forEach((vec, k) => {
      if (vec.length !== encoder.dim) {
        throw new Error(`text encoder "${encoder.id}" returned a ${vec.length}-d vector, but its dim is ${encoder.dim}`);
      }
      out.set(vec, textSlots[k]);
    });
  }
  return out;
}

/** The known name within edit distance 2 of `key` (case ignored), if exactly one is closest. */
function closest(key: string, names: string[]): string | undefined {
  const k = key.toLowerCase();
  const scored = names.map((n) => [n, editDistance(k, n.toLowerCase())] as const).filter(([, d]) => d <= 2);
  const best = Math.min(...scored.map(([, d]) => d));
  const at = scored.filter(([, d]) => d === best);
  return at.length === 1 ? at[0][0] : undefined;
}
