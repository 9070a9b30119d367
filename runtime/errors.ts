// One error class for problems with what a caller passed in (an image, an attribute record, a
// tensor), so a server embedding the runtime can answer "bad request" for these and treat every
// other error (a broken model directory, a missing provider) as its own fault.
export class M2fnInputError extends Error {
  override name = 'M2fnInputError';
}
