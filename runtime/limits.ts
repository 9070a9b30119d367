// Bounds on the resource options a caller controls. Past them a request is a mistake (or an
// attack) that would exhaust memory or threads, so it is refused with the option's name and its
// range rather than attempted. The tools reuse these for their own flags.
import { M2fnInputError } from './errors.ts';

export const LIMITS = {
  /** Items per ORT run (scoreMany batchSize, ort-train --batch-size). */
  batchSize: 4096,
  /** Images decoded at once. */
  concurrency: 64,
  /** Intra-op threads (load, ort-train --threads, prepare's DuckDB threads). */
  threads: 1024,
  /** Characters in one text attribute value (the encoders look at far fewer). */
  textChars: 100_000,
} as const;

/** Throws M2fnInputError unless `value` is an integer in [min, max]; `what` names the option. */
export function checkIntegerOption(what: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new M2fnInputError(`${what} must be an integer in [${min}, ${max}] (got ${typeof value === 'number' ? value : JSON.stringify(value) ?? String(value)})`);
  }
  return value;
}
