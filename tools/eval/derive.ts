// Derived dataset directories for the replication protocol, so every variant trains through the
// unchanged trainer: a schema without some attributes (leave-one-attribute-out, paper Table 8),
// text attributes at a smaller embedding dim (the CPU protocol), or every image replaced by one
// blank image ("M2FN w/o image", Table 7). Rows keep their ids, targets, impressions and truth;
// images are reached through a symlink to the source's image directory, so nothing is copied.
// The directory is produced whole (produceDirAtomic): a failed or killed derivation leaves the
// previous one, or none, never a dataset.json beside half its splits.
import { readFileSync, symlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import sharp from 'sharp';
import { produceDirAtomic, writeFileAtomic } from '../../runtime/atomic-write.ts';
import type { AuxSchema } from '../../runtime/schema.ts';
import { IMAGENET_MEAN } from '../../graph/export/inference.ts';
import { readDatasetJson, readManifest, toJsonl, writeDatasetJson, type DatasetRow, type SplitName } from '../data/manifest.ts';

export interface DeriveOptions {
  /** Attributes to remove from the schema and the rows. */
  drop?: string[];
  /** New dim for every text attribute (the hashing encoder works at any dim). */
  textDim?: number;
  /** Replace every image by one image of the normalisation mean colour: the model input is ≈ 0. */
  blankImage?: boolean;
  /** Why this dataset exists, recorded in dataset.json's source. */
  note?: string;
}

export const BLANK_IMAGE = 'blank.png';

/** The schema after `drop` and `textDim`; throws on unknown attribute names or an empty result. */
export function deriveSchema(schema: AuxSchema, o: DeriveOptions): AuxSchema {
  const names = new Set(schema.attributes.map((a) => a.name));
  for (const d of o.drop ?? []) if (!names.has(d)) throw new Error(`derive: schema "${schema.name}" has no attribute "${d}" (has ${[...names].join(', ')})`);
  const attributes = schema.attributes
    .filter((a) => !(o.drop ?? []).includes(a.name))
    .map((a) => (a.kind === 'text' && o.textDim !== undefined ? { ...a, dim: o.textDim } : a));
  if (attributes.length === 0) throw new Error(`derive: dropping ${(o.drop ?? []).join(', ')} leaves schema "${schema.name}" without attributes`);
  return { ...schema, attributes };
}

/**
 * Writes `out` as a dataset derived from `src`. Existing contents of `out` are replaced. The
 * image directory of `src` is symlinked as `out/images` (rows name `images/...`, which the
 * manifest requires to stay inside the directory). Atomic: `out` is replaced only once complete.
 */
export async function deriveDataset(src: string, out: string, o: DeriveOptions): Promise<string> {
  const ds = readDatasetJson(src);
  const schema = deriveSchema(ds.auxSchema, o);
  const keep = new Set(schema.attributes.map((a) => a.name));
  await produceDirAtomic(out, async (stage) => {
    const splits: Record<SplitName, string> = { train: 'train.jsonl', test: 'test.jsonl' };
    let imageDirs = new Set<string>();
    for (const split of ['train', 'test'] as const) {
      const s = readManifest(src, split);
      const rows: DatasetRow[] = s.rows.map((r) => {
        const attributes: DatasetRow['attributes'] = {};
        for (const [k, v] of Object.entries(r.attributes)) if (keep.has(k)) attributes[k] = v;
        if (!o.blankImage) imageDirs.add(dirname(r.image));
        return { ...r, attributes, image: o.blankImage ? BLANK_IMAGE : r.image };
      });
      writeFileAtomic(join(stage, splits[split]), toJsonl(rows));
    }
    if (o.blankImage) {
      const [r, g, b] = IMAGENET_MEAN.map((m) => Math.round(m * 255));
      writeFileAtomic(join(stage, BLANK_IMAGE), await sharp({ create: { width: 32, height: 32, channels: 3, background: { r, g, b } } }).png().toBuffer());
    } else {
      imageDirs = new Set([...imageDirs].map((d) => d.split(/[\\/]/)[0]));
      for (const d of imageDirs) {
        if (d === '.' || d === '') throw new Error(`derive: ${src} keeps images at its top level; derived datasets need them in a subdirectory`);
        symlinkSync(resolve(src, d), join(stage, d), 'dir');
      }
    }
    writeDatasetJson(stage, {
      auxSchema: schema,
      target: ds.target,
      splits,
      source: { ...ds.source, derivedFrom: resolve(src), derivation: { drop: o.drop ?? [], textDim: o.textDim ?? null, blankImage: !!o.blankImage, note: o.note ?? null } },
    });
  });
  return out;
}

/** Reads back the derivation record of a derived dataset (null for an original). */
export function derivationOf(dir: string): Record<string, unknown> | null {
  const j = JSON.parse(readFileSync(join(dir, 'dataset.json'), 'utf8')) as { source?: { derivation?: Record<string, unknown> } };
  return j.source?.derivation ?? null;
}
