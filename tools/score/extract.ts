// Attributes read off the image itself — the dominant colour (`domcol`) and the text in the image
// (`ocr`) — for creatives whose input lacks them, computed by the same extractors as the data
// pipeline (runtime/extract/, docs/data.md §5), once per image however many contexts it meets.
import type { Attributes } from '../../runtime/attributes.ts';
import { dominantColour } from '../../runtime/extract/dominant-colour.ts';
import type { OcrEngine } from '../../runtime/extract/ocr.ts';
import type { AuxSchema } from '../../runtime/schema.ts';

/** Schema attribute name → how to read it off an image. */
const EXTRACTORS = {
  domcol: { kind: 'categorical', read: async (image: string) => (await dominantColour(image)).colour },
  ocr: { kind: 'text', read: (image: string, ocr: OcrEngine) => ocr.read(image) },
} as const;
type Extracted = keyof typeof EXTRACTORS;

/** Which extractors the schema needs (an attribute of that name and kind). */
export function extractable(schema: AuxSchema | null): Extracted[] {
  return (Object.keys(EXTRACTORS) as Extracted[]).filter((name) => schema?.attributes.some((a) => a.name === name && a.kind === EXTRACTORS[name].kind));
}

export interface ExtractionCounts {
  /** Images each attribute was extracted from (each image once). */
  images: Record<string, number>;
  /** Rows that got an extracted value. */
  rows: number;
}

/**
 * Sets the missing extractable attributes of `rows` in place. `openOcr` is called only when some
 * row needs OCR; the engine is closed before returning. `tick` is called once per image done.
 */
export async function fillFromImages(
  schema: AuxSchema | null,
  rows: { image: string; attributes: Attributes }[],
  openOcr: () => Promise<OcrEngine>,
  tick: (done: number, total: number) => void = () => {},
): Promise<ExtractionCounts> {
  const names = extractable(schema);
  const todo = new Map<Extracted, Set<string>>(names.map((n) => [n, new Set<string>()]));
  for (const r of rows) for (const n of names) if (r.attributes[n] === undefined || r.attributes[n] === null) todo.get(n)!.add(r.image);
  const total = [...todo.values()].reduce((s, images) => s + images.size, 0);
  const values = new Map<string, unknown>(); // `${name}\0${image}` → value
  let ocr: OcrEngine | null = null;
  let done = 0;
  try {
    for (const [name, images] of todo) {
      for (const image of images) {
        if (name === 'ocr') values.set(`ocr\0${image}`, await EXTRACTORS.ocr.read(image, (ocr ??= await openOcr())));
        else values.set(`${name}\0${image}`, await EXTRACTORS[name].read(image));
        tick(++done, total);
      }
    }
  } finally {
    await ocr?.close();
  }
  let filled = 0;
  for (const r of rows) {
    let got = false;
    for (const n of names) {
      const v = values.get(`${n}\0${r.image}`);
      if (v !== undefined && (r.attributes[n] === undefined || r.attributes[n] === null)) {
        r.attributes[n] = v;
        got = true;
      }
    }
    if (got) filled++;
  }
  return { images: Object.fromEntries([...todo].map(([n, s]) => [n, s.size])), rows: filled };
}
