// One error class for problems with what a caller passed in (an image, an attribute record, a
// tensor), so a server embedding the runtime can answer "bad request" for these and treat every
// other error (a broken model directory, a missing provider) as its own fault.
export class M2fnInputError extends Error {
  override name = 'M2fnInputError';
}

/**
 * A problem with one named option of a library call (a config field, a training option). The
 * library speaks of the field as callers name it (`lr`, `cbnPlacement`); a CLI maps `field` to its
 * own flag (`--lr`, `--cbn-placement`) when it reports the error, so library users never read
 * about flags they did not pass.
 */
export class FieldError extends M2fnInputError {
  override name = 'FieldError';
  constructor(
    readonly field: string,
    readonly detail: string,
  ) {
    super(`${field}: ${detail}`);
  }
}
