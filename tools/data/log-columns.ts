// The raw impression log's columns: one row per impression. The categorical context and item
// attributes use the integer codes of the paper's Table 1; `domcol` is a colour name.
import { DOMINANT_COLOURS } from '../../runtime/schema.ts';

export interface IntColumn {
  name: string;
  kind: 'int';
  min: number;
  max: number;
}
export interface TextColumn {
  name: string;
  kind: 'text';
  /** Allowed values; absent = any non-empty string. */
  values?: readonly string[];
  /** An empty value is allowed (an ad without text). */
  allowEmpty?: boolean;
}
export type LogColumn = IntColumn | TextColumn;

/** Columns every log must have, in the order synth writes them. */
export const REQUIRED_COLUMNS: LogColumn[] = [
  { name: 'image', kind: 'text' },
  { name: 'gender', kind: 'int', min: 1, max: 2 },
  { name: 'age', kind: 'int', min: 1, max: 9 },
  { name: 'month', kind: 'int', min: 1, max: 12 },
  { name: 'weekday', kind: 'int', min: 1, max: 7 },
  { name: 'hour', kind: 'int', min: 0, max: 23 },
  { name: 'position', kind: 'int', min: 1, max: 4 },
  { name: 'cate2', kind: 'int', min: 1, max: 4 },
  { name: 'cate3', kind: 'int', min: 1, max: 9 },
  { name: 'title', kind: 'text', allowEmpty: true },
  { name: 'desc', kind: 'text', allowEmpty: true },
  { name: 'ocr', kind: 'text', allowEmpty: true },
  { name: 'domcol', kind: 'text', values: DOMINANT_COLOURS },
  { name: 'clicked', kind: 'int', min: 0, max: 1 },
];

/** Optional: the viewer's id, needed for the malicious-user rule. */
export const USER_COLUMN = 'user_id';

/** The attributes that identify an instance together with the image (everything but the label). */
export const INSTANCE_COLUMNS = REQUIRED_COLUMNS.filter((c) => c.name !== 'clicked').map((c) => c.name);

/** Context attributes that vary per impression (the truth table's key, with image). */
export const CONTEXT_COLUMNS = ['gender', 'age', 'month', 'weekday', 'hour', 'position'] as const;
