// Path guards shared by every tool that reads what a file names or writes beside its inputs:
// a manifest's relative paths must stay inside their directory, and an output directory must not
// overlap any input (so no run can overwrite or delete what it reads).
import { existsSync, realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, normalize, relative, resolve, sep } from 'node:path';
import { FieldError } from '../../runtime/errors.ts';

/**
 * Why `rel`, a path a manifest or dataset names, may not be joined to its directory: absolute, or
 * climbing out with `..`. Null when it stays inside. Lexical on purpose: the file's text is what is
 * untrusted; symlinks inside a dataset were put there by its owner (e.g. a shared images folder).
 */
export function escapesDir(rel: string): string | null {
  if (rel === '' || rel.includes('\0')) return 'is empty or holds a NUL byte';
  if (isAbsolute(rel) || /^[A-Za-z]:|^[\\/]/.test(rel)) return 'is absolute';
  if (normalize(rel).split(/[\\/]/).includes('..') || rel.split(/[\\/]/).includes('..')) return 'climbs out with ".."';
  return null;
}

/** The real path of `p`, or of its nearest existing ancestor with the rest appended (p may not exist yet). */
function realish(p: string): string {
  const abs = resolve(p);
  if (existsSync(abs)) return realpathSync(abs);
  const parent = dirname(abs);
  return parent === abs ? abs : join(realish(parent), basename(abs));
}

const within = (inner: string, outer: string) => {
  const r = relative(outer, inner);
  return r === '' || (!r.startsWith(`..${sep}`) && r !== '..' && !isAbsolute(r));
};

/**
 * Throws a FieldError on `out` unless the output directory `out` and every input (by the option
 * field that names it) are disjoint: `out` is not an input, not inside an input folder, and holds
 * no input. Symlinks are resolved, so an `out` through a link to the inputs is caught too.
 */
export function assertDisjoint(out: string, inputs: { field: string; path: string }[]): void {
  const o = realish(out);
  for (const input of inputs) {
    const i = realish(input.path);
    if (within(o, i) || within(i, o)) {
      throw new FieldError('out', `the output ${out} overlaps its input \`${input.field}\` ${input.path}; writing there would overwrite or delete it — choose an \`out\` outside the inputs`);
    }
  }
}
