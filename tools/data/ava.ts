// AVA (Murray et al. 2012) reader: AVA.txt rows are
//   index image_id v1 … v10 tag1 tag2 challenge_id
// (v_k = votes for score k; tag 0 = no tag), tags.txt rows are "id name". Targets are the
// normalised 10-bin vote histograms; the tags' names, joined by ", ", are the text attribute
// `tags` of AVA_SCHEMA (paper §6.4). Split 8:2 by a seeded hash of the image id.
import { existsSync, mkdirSync, readFileSync, symlinkSync, lstatSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AVA_SCHEMA } from '../../runtime/schema.ts';
import { writeFileAtomic } from '../../runtime/atomic-write.ts';
import { FieldError } from '../../runtime/errors.ts';
import { assertDisjoint } from './paths.ts';
import { toJsonl, writeDatasetJson, type DatasetRow } from './manifest.ts';
import { mix32 } from '../../runtime/random.ts';

export interface AvaRow {
  line: number;
  index: number;
  imageId: string;
  votes: number[];
  tags: [number, number];
  challenge: number;
}

export class AvaFormatError extends Error {
  constructor(readonly problems: string[]) {
    super(`AVA input is malformed (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n  ${problems.slice(0, 20).join('\n  ')}${problems.length > 20 ? `\n  … and ${problems.length - 20} more` : ''}`);
    this.name = 'AvaFormatError';
  }
}

const INT = /^\d+$/;

export function parseAvaTxt(text: string, file = 'AVA.txt'): AvaRow[] {
  const rows: AvaRow[] = [];
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line) return;
    const f = line.split(/\s+/);
    const where = `${file}:${i + 1}`;
    if (f.length !== 15) return void problems.push(`${where}: expected 15 fields (index, image id, 10 vote counts, 2 tags, challenge), found ${f.length}`);
    const bad = f.findIndex((x) => !INT.test(x));
    if (bad >= 0) return void problems.push(`${where}: field ${bad + 1} (${JSON.stringify(f[bad])}) is not a non-negative integer`);
    const n = f.map(Number);
    rows.push({ line: i + 1, index: n[0], imageId: f[1], votes: n.slice(2, 12), tags: [n[12], n[13]], challenge: n[14] });
  });
  if (problems.length) throw new AvaFormatError(problems);
  return rows;
}

export function parseTags(text: string, file = 'tags.txt'): Map<number, string> {
  const tags = new Map<number, string>();
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line) return;
    const m = /^(\d+)\s+(.+)$/.exec(line);
    if (!m) return void problems.push(`${file}:${i + 1}: expected "id name", found ${JSON.stringify(line)}`);
    const id = Number(m[1]);
    if (tags.has(id)) problems.push(`${file}:${i + 1}: tag id ${id} defined twice`);
    tags.set(id, m[2].trim());
  });
  if (problems.length) throw new AvaFormatError(problems);
  return tags;
}

/** Tag names of a row joined by ", " (tag 0 = none); unknown ids are errors. */
export function tagText(row: AvaRow, tags: Map<number, string>, file = 'AVA.txt'): string {
  return row.tags
    .filter((t) => t !== 0)
    .map((t) => {
      const name = tags.get(t);
      if (name === undefined) throw new AvaFormatError([`${file}:${row.line}: tag id ${t} is not in tags.txt`]);
      return name;
    })
    .join(', ');
}

export interface AvaOptions {
  ava: string;
  tags: string;
  images: string;
  out: string;
  testFraction: number;
  seed: number;
  imageExtension: string;
}

export interface AvaReport {
  rows: number;
  train: number;
  test: number;
  rejected: Record<'image_missing' | 'no_votes', { count: number; examples: string[] }>;
}

export function buildAvaDataset(o: AvaOptions): AvaReport {
  for (const [what, p] of [['AVA.txt', o.ava], ['tags.txt', o.tags]] as const) if (!existsSync(p)) throw new Error(`${p}: ${what} not found`);
  if (!existsSync(o.images)) throw new Error(`${o.images}: images directory not found`);
  assertDisjoint(o.out, [{ field: 'ava', path: o.ava }, { field: 'tags', path: o.tags }, { field: 'images', path: o.images }]);
  const rows = parseAvaTxt(readFileSync(o.ava, 'utf8'), o.ava);
  const tags = parseTags(readFileSync(o.tags, 'utf8'), o.tags);
  const rejected: AvaReport['rejected'] = { image_missing: { count: 0, examples: [] }, no_votes: { count: 0, examples: [] } };
  const reject = (why: keyof AvaReport['rejected'], msg: string) => {
    rejected[why].count++;
    if (rejected[why].examples.length < 10) rejected[why].examples.push(msg);
  };
  const split: Record<'train' | 'test', DatasetRow[]> = { train: [], test: [] };
  const seen = new Set<string>();
  for (const r of rows) {
    if (seen.has(r.imageId)) throw new AvaFormatError([`${o.ava}:${r.line}: image id ${r.imageId} appears twice`]);
    seen.add(r.imageId);
    const file = `${r.imageId}.${o.imageExtension}`;
    const total = r.votes.reduce((a, b) => a + b, 0);
    if (total === 0) { reject('no_votes', `${o.ava}:${r.line}: image ${r.imageId} has no votes`); continue; }
    if (!existsSync(join(o.images, file))) { reject('image_missing', `${o.ava}:${r.line}: ${join(o.images, file)} not found`); continue; }
    let h = mix32(o.seed);
    for (let i = 0; i < r.imageId.length; i++) h = mix32(h ^ r.imageId.charCodeAt(i));
    const which = h / 4294967296 < o.testFraction ? 'test' : 'train';
    split[which].push({ id: r.imageId, image: `images/${file}`, attributes: { tags: tagText(r, tags, o.ava) }, histogram: r.votes.map((v) => v / total), impressions: total });
  }
  mkdirSync(o.out, { recursive: true });
  // The images stay where they are; the dataset links to them.
  const link = join(o.out, 'images');
  if (!existsSync(link)) symlinkSync(resolve(o.images), link, 'dir');
  else if (!lstatSync(link).isSymbolicLink() && resolve(link) !== resolve(o.images)) throw new FieldError('out', `${link} exists and is not a link to ${o.images}; remove it or choose another \`out\``);
  writeFileAtomic(join(o.out, 'train.jsonl'), toJsonl(split.train));
  writeFileAtomic(join(o.out, 'test.jsonl'), toJsonl(split.test));
  const report: AvaReport = { rows: rows.length, train: split.train.length, test: split.test.length, rejected };
  writeDatasetJson(o.out, {
    auxSchema: AVA_SCHEMA,
    target: 'histogram',
    splits: { train: 'train.jsonl', test: 'test.jsonl' },
    source: { generator: 'm2fn ava', ava: o.ava, tags: o.tags, images: resolve(o.images), seed: o.seed, testFraction: o.testFraction, histogram: 'votes per score 1..10 divided by total votes; impressions = total votes', report },
  });
  return report;
}
