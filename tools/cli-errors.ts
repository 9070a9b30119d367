// How every CLI reports an error. Library code throws FieldError naming the option field as a
// library caller names it (`cbnPlacement`, `lr`), and names any other field its message points to
// in backquotes ("use `resume` to continue it"); the user typed flags, so that is what they read.
import { FieldError } from '../runtime/errors.ts';
import { MODEL_FLAGS } from './model-options.ts';

/** Fields whose flag is not their name in kebab case. */
const FLAG_OVERRIDES: Record<string, string> = {
  mode: 'step', // ort-train --step fused|split sets TrainOptions.mode
  'optimizer.kind': 'optimizer',
  'validation.file': 'validation', // ort-train --validation file:PATH
  logs: 'log', // prepare --log (repeatable) sets PrepareOptions.logs
  imageExtension: 'ext', // m2fn ava --ext
};

const CONFIG_FLAGS = new Map(MODEL_FLAGS.map((f) => [f.field, f.name]));

const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** The flag that sets a library field: the config schema's for config fields, else the field's last segment in kebab case. */
export function flagFor(field: string): string {
  const name = CONFIG_FLAGS.get(field) ?? FLAG_OVERRIDES[field] ?? kebab(field.split('.').pop()!);
  return `--${name}`;
}

/** A field named in a library message: `lr`, `validation.file` (an identifier in backquotes). */
const FIELD_REFERENCE = /`([a-z][A-Za-z0-9]*(?:\.[a-z][A-Za-z0-9]*)*)`/g;

/** Library text as a CLI user reads it: every `field` it names becomes the flag that sets it. */
export function withFlags(text: string): string {
  return text.replace(FIELD_REFERENCE, (_, field: string) => flagFor(field));
}

/** The message a CLI prints for an error: a FieldError leads with its flag; named fields read as flags. */
export function cliMessage(e: unknown): string {
  if (e instanceof FieldError) return `${flagFor(e.field)}: ${withFlags(e.detail)}`;
  return withFlags(e instanceof Error ? e.message : String(e));
}

/** Prints `prog: message` on stderr and exits with `code`. */
export function exitWithError(prog: string, e: unknown, code = 1): never {
  console.error(`${prog}: ${cliMessage(e)}`);
  process.exit(code);
}
