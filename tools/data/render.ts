// Renders an ad image from its spec: SVG built here, rasterised by sharp (librsvg). The layout
// keeps the background the clear majority of pixels for single-colour ads, so the dominant colour
// is well defined; 'multiple' ads are equal vertical stripes.
import sharp from 'sharp';
import type { ImageSpec } from './world.ts';
import { Rng } from '../../runtime/random.ts';

const rgb = ([r, g, b]: [number, number, number]) => `rgb(${r},${g},${b})`;
const shade = ([r, g, b]: [number, number, number], d: number): [number, number, number] =>
  [r, g, b].map((c) => Math.max(0, Math.min(255, Math.round(c + d)))) as [number, number, number];
const escapeXml = (s: string) => s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** Break a phrase into lines of at most `maxChars` characters at spaces. */
export function wrapText(text: string, maxChars: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && (line + ' ' + word).length > maxChars) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

function background(spec: ImageSpec, S: number, rng: Rng): string {
  const base = spec.background[0];
  if (spec.colour === 'multiple') {
    const w = S / spec.background.length;
    return spec.background.map((c, i) => `<rect x="${i * w}" y="0" width="${w + 1}" height="${S}" fill="${rgb(c)}"/>`).join('');
  }
  if (spec.style === 'pixel') {
    // Blocky tiles in near shades of the base colour.
    const n = 14;
    const cell = S / n;
    let out = '';
    for (let y = 0; y < n; y++)
      for (let x = 0; x < n; x++) out += `<rect x="${x * cell}" y="${y * cell}" width="${cell + 0.5}" height="${cell + 0.5}" fill="${rgb(shade(base, (rng.next() - 0.5) * 18))}"/>`;
    return `<g shape-rendering="crispEdges">${out}</g>`;
  }
  if (spec.style === 'photo') {
    // Soft lighting and blurred blobs plus grain, still within a narrow band of the base colour.
    const blobs = Array.from({ length: 4 }, () =>
      `<circle cx="${rng.next() * S}" cy="${rng.next() * S}" r="${S * (0.12 + rng.next() * 0.15)}" fill="${rgb(shade(base, (rng.next() - 0.5) * 30))}"/>`,
    ).join('');
    return `<defs><radialGradient id="light" cx="35%" cy="30%" r="80%"><stop offset="0" stop-color="${rgb(shade(base, 14))}"/><stop offset="1" stop-color="${rgb(shade(base, -14))}"/></radialGradient>
<filter id="soft"><feGaussianBlur stdDeviation="${S / 30}"/></filter>
<filter id="grain"><feTurbulence type="fractalNoise" baseFrequency="0.9" numOctaves="1" seed="${rng.int(1000)}"/><feColorMatrix type="saturate" values="0"/><feComponentTransfer><feFuncA type="linear" slope="0.06"/></feComponentTransfer></filter></defs>
<rect width="${S}" height="${S}" fill="url(#light)"/><g filter="url(#soft)">${blobs}</g><rect width="${S}" height="${S}" filter="url(#grain)"/>`;
  }
  return `<rect width="${S}" height="${S}" fill="${rgb(base)}"/>`;
}

function logo(spec: ImageSpec, S: number): string {
  const r = S * 0.075;
  const cx = S - r * 1.6;
  const cy = spec.textPosition === 'top' ? S - r * 1.6 : r * 1.6;
  const fill = rgb(spec.textColour);
  const stroke = rgb(shade(spec.background[0], spec.background[0][0] > 128 ? -90 : 90));
  const style = `fill="${fill}" stroke="${stroke}" stroke-width="${S / 110}"`;
  switch (spec.logo) {
    case 'circle':
      return `<circle cx="${cx}" cy="${cy}" r="${r}" ${style}/>`;
    case 'square':
      return `<rect x="${cx - r}" y="${cy - r}" width="${2 * r}" height="${2 * r}" rx="${r / 4}" ${style}/>`;
    case 'triangle':
      return `<polygon points="${cx},${cy - r} ${cx + r},${cy + r * 0.8} ${cx - r},${cy + r * 0.8}" ${style}/>`;
    case 'star': {
      const pts = Array.from({ length: 10 }, (_, i) => {
        const a = -Math.PI / 2 + (i * Math.PI) / 5;
        const rr = i % 2 ? r * 0.45 : r;
        return `${(cx + rr * Math.cos(a)).toFixed(1)},${(cy + rr * Math.sin(a)).toFixed(1)}`;
      }).join(' ');
      return `<polygon points="${pts}" ${style}/>`;
    }
  }
}

function product(spec: ImageSpec, S: number, textBand: [number, number]): string {
  // The product sits in the part of the canvas the text leaves free.
  const cy = textBand[0] > S / 2 ? S * 0.32 : textBand[1] < S / 2 ? S * 0.68 : S * 0.2;
  const cx = S * 0.3;
  const r = S * 0.1;
  const fill = rgb(shade(spec.background[0], spec.background[0][0] + spec.background[0][1] > 250 ? -70 : 70));
  switch (spec.product) {
    case 'gem':
      return `<polygon points="${cx},${cy - r} ${cx + r},${cy} ${cx},${cy + r} ${cx - r},${cy}" fill="${fill}"/>`;
    case 'shield':
      return `<path d="M${cx - r},${cy - r} H${cx + r} V${cy} Q${cx + r},${cy + r} ${cx},${cy + r * 1.2} Q${cx - r},${cy + r} ${cx - r},${cy} Z" fill="${fill}"/>`;
    case 'potion':
      return `<circle cx="${cx}" cy="${cy + r * 0.3}" r="${r * 0.8}" fill="${fill}"/><rect x="${cx - r * 0.25}" y="${cy - r}" width="${r * 0.5}" height="${r * 0.7}" fill="${fill}"/>`;
  }
}

/** Where the catchphrase goes: its lines, font size and the rows [top, top + blockH] it covers. */
export function textLayout(spec: Pick<ImageSpec, 'textLarge' | 'catchphrase' | 'textPosition'>, S: number) {
  const fontSize = S * (spec.textLarge ? 0.1 : 0.075);
  const lines = wrapText(spec.catchphrase, spec.textLarge ? 13 : 18);
  const lineH = fontSize * 1.2;
  const blockH = lines.length * lineH;
  const top = spec.textPosition === 'top' ? S * 0.08 : spec.textPosition === 'middle' ? (S - blockH) / 2 : S * 0.92 - blockH;
  return { fontSize, lines, lineH, blockH, top };
}

/** The SVG source of an ad (exposed for tests and for debugging layouts). */
export function adSvg(spec: ImageSpec, size: number): string {
  const S = size;
  const rng = new Rng(spec.index * 7919 + 17);
  const { fontSize, lines, lineH, top, blockH } = textLayout(spec, S);
  const family = spec.style === 'pixel' ? 'DejaVu Sans Mono, monospace' : 'DejaVu Sans, sans-serif';
  const text = lines
    .map((l, i) => `<text x="${S / 2}" y="${(top + (i + 0.82) * lineH).toFixed(1)}" text-anchor="middle" font-family="${family}" font-weight="bold" font-size="${fontSize.toFixed(1)}" fill="${rgb(spec.textColour)}">${escapeXml(l)}</text>`)
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${S}" height="${S}" viewBox="0 0 ${S} ${S}">${background(spec, S, rng)}${product(spec, S, [top, top + blockH])}${logo(spec, S)}${text}</svg>`;
}

export async function renderAd(spec: ImageSpec, size: number, format: 'png' | 'jpeg' = 'png'): Promise<Buffer> {
  const img = sharp(Buffer.from(adSvg(spec, size))).removeAlpha();
  return format === 'png' ? img.png({ compressionLevel: 6 }).toBuffer() : img.jpeg({ quality: 90 }).toBuffer();
}
