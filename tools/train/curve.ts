// Learning curves as PNG: loss per epoch on the left axis, validation SPRC/LCC on the right axis,
// drawn as SVG and rasterised with sharp (librsvg), so no plotting library is needed.
// Missing or non-finite values (a diverged epoch, a skipped validation) break the line there
// instead of failing the run that is trying to report them.
import sharp from 'sharp';
import { writeFileAtomic } from '../../runtime/atomic-write.ts';

export interface CurvePoint {
  epoch: number;
  trainLoss: number;
  valLoss?: number;
  valSprc?: number;
  valLcc?: number;
}

export const CURVE_WIDTH = 800;
export const CURVE_HEIGHT = 480;

const FONT = 'DejaVu Sans, Liberation Sans, Arial, sans-serif';
const M = { left: 72, right: 72, top: 72, bottom: 52 };

interface Series {
  key: keyof Omit<CurvePoint, 'epoch'>;
  label: string;
  color: string;
  dash: string | null;
  axis: 'loss' | 'metric';
}

const SERIES: Series[] = [
  { key: 'trainLoss', label: 'train loss', color: '#1f77b4', dash: null, axis: 'loss' },
  { key: 'valLoss', label: 'val loss', color: '#ff7f0e', dash: null, axis: 'loss' },
  { key: 'valSprc', label: 'val SPRC', color: '#2ca02c', dash: '6 4', axis: 'metric' },
  { key: 'valLcc', label: 'val LCC', color: '#9467bd', dash: '2 3', axis: 'metric' },
];

const esc = (s: string) => s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** A 1/2/2.5/5 × 10^k step giving about `ticks` intervals over `range` (no 2.5 for integers). */
function niceStep(range: number, ticks: number, integer = false): number {
  const raw = range / ticks;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const steps = (integer ? [1, 2, 5, 10] : [1, 2, 2.5, 5, 10]).map((m) => m * mag);
  const s = steps.find((v) => v >= raw * (1 - 1e-9)) ?? 10 * mag;
  return integer ? Math.max(1, s) : s;
}

/** Tick values from lo to hi by step, without float drift in the labels. */
function ticks(lo: number, hi: number, step: number): number[] {
  const out: number[] = [];
  const n = Math.round((hi - lo) / step);
  for (let i = 0; i <= n; i++) out.push(Number((lo + i * step).toPrecision(12)));
  return out;
}

function tickLabel(v: number, step: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  // Mantissa to 3 digits with trailing zeros dropped: 2.25e-4, 2e-4.
  if (a >= 1e5 || a < 1e-3) return v.toExponential(2).replace(/\.?0+e/, 'e');
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  return v.toFixed(Math.min(6, decimals + (step / 10 ** Math.floor(Math.log10(step)) === 2.5 ? 1 : 0)));
}

/** The chart as SVG text (CURVE_WIDTH × CURVE_HEIGHT). */
export function learningCurveSvg(log: CurvePoint[], title: string): string {
  const W = CURVE_WIDTH;
  const H = CURVE_HEIGHT;
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const pts = log.filter((p) => isNum(p.epoch)).sort((a, b) => a.epoch - b.epoch);
  const present = SERIES.filter((s) => pts.some((p) => isNum(p[s.key])));
  const hasMetric = present.some((s) => s.axis === 'metric');

  // x: epochs; a single epoch gets a unit-wide range centred on it.
  let x0 = pts.length ? pts[0].epoch : 0;
  let x1 = pts.length ? pts[pts.length - 1].epoch : 1;
  if (x1 === x0) {
    x0 -= 0.5;
    x1 += 0.5;
  }
  const xStep = niceStep(x1 - x0, 10, true);
  const xTicks = ticks(Math.ceil(x0 / xStep) * xStep, Math.floor(x1 / xStep) * xStep, xStep);
  const x = (e: number) => M.left + ((e - x0) / (x1 - x0)) * pw;

  // Left: loss, a tight range rounded out to nice ticks.
  const losses = pts.flatMap((p) => [p.trainLoss, p.valLoss]).filter(isNum);
  let lMin = losses.length ? Math.min(...losses) : 0;
  let lMax = losses.length ? Math.max(...losses) : 1;
  // 5% headroom so extreme points do not sit on the frame (10% of the value for a flat line).
  const pad = lMax > lMin ? 0.05 * (lMax - lMin) : Math.abs(lMin) * 0.1 || 1;
  lMin -= pad;
  lMax += pad;
  if (losses.length && Math.min(...losses) >= 0) lMin = Math.max(0, lMin); // no negative loss ticks
  const lStep = niceStep(lMax - lMin, 5);
  const lLo = Math.floor(lMin / lStep + 1e-9) * lStep;
  const lHi = Math.ceil(lMax / lStep - 1e-9) * lStep;
  const yL = (v: number) => M.top + ph - ((v - lLo) / (lHi - lLo)) * ph;

  // Right: correlations, 0..1 unless any is negative, then −1..1.
  const metrics = pts.flatMap((p) => [p.valSprc, p.valLcc]).filter(isNum);
  const mLo = metrics.some((v) => v < 0) ? -1 : 0;
  const mStep = mLo < 0 ? 0.5 : 0.2;
  const yM = (v: number) => M.top + ph - ((Math.min(1, Math.max(mLo, v)) - mLo) / (1 - mLo)) * ph;

  const o: string[] = [];
  const text = (xp: number, yp: number, s: string, a: { anchor?: 'start' | 'middle' | 'end'; size?: number; bold?: boolean; fill?: string; rotate?: number } = {}) => {
    const rot = a.rotate ? ` transform="rotate(${a.rotate} ${xp.toFixed(1)} ${yp.toFixed(1)})"` : '';
    o.push(
      `<text x="${xp.toFixed(1)}" y="${yp.toFixed(1)}" font-family="${FONT}" font-size="${a.size ?? 12}" fill="${a.fill ?? '#222'}" ` +
        `text-anchor="${a.anchor ?? 'start'}"${a.bold ? ' font-weight="bold"' : ''}${rot}>${esc(s)}</text>`,
    );
  };
  o.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  text(W / 2, 26, title, { anchor: 'middle', size: 16, bold: true });

  // Grid and left ticks.
  for (const v of ticks(lLo, lHi, lStep)) {
    o.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${yL(v).toFixed(1)}" y2="${yL(v).toFixed(1)}" stroke="#e4e4e4"/>`);
    text(M.left - 8, yL(v) + 4, tickLabel(v, lStep), { anchor: 'end' });
  }
  if (hasMetric) {
    for (const v of ticks(mLo, 1, mStep)) {
      o.push(`<line x1="${W - M.right}" x2="${W - M.right + 5}" y1="${yM(v).toFixed(1)}" y2="${yM(v).toFixed(1)}" stroke="#444"/>`);
      text(W - M.right + 8, yM(v) + 4, v.toFixed(1));
    }
    if (mLo < 0) {
      o.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${yM(0).toFixed(1)}" y2="${yM(0).toFixed(1)}" stroke="#bbb" stroke-dasharray="3 3"/>`);
    }
  }
  for (const e of xTicks) {
    o.push(`<line x1="${x(e).toFixed(1)}" x2="${x(e).toFixed(1)}" y1="${M.top + ph}" y2="${M.top + ph + 5}" stroke="#444"/>`);
    text(x(e), M.top + ph + 19, String(e), { anchor: 'middle' });
  }
  // Frame and axis titles.
  o.push(`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#444"/>`);
  text(M.left + pw / 2, H - 12, 'epoch', { anchor: 'middle', size: 13 });
  text(22, M.top + ph / 2, 'loss', { anchor: 'middle', size: 13, rotate: -90 });
  if (hasMetric) {
    const xr = W - 16;
    text(xr, M.top + ph / 2, 'SPRC / LCC', { anchor: 'middle', size: 13, rotate: 90 });
  }

  // Series: one polyline per run of finite values, markers at every finite point.
  for (const s of present) {
    const y = s.axis === 'loss' ? yL : yM;
    const stroke = `stroke="${s.color}" stroke-width="2" fill="none"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}`;
    let run: string[] = [];
    const flush = () => {
      if (run.length > 1) o.push(`<polyline points="${run.join(' ')}" ${stroke} stroke-linejoin="round"/>`);
      run = [];
    };
    for (const p of pts) {
      const v = p[s.key];
      if (!isNum(v)) {
        flush();
        continue;
      }
      const px = x(p.epoch).toFixed(1);
      const py = y(v).toFixed(1);
      run.push(`${px},${py}`);
      o.push(`<circle cx="${px}" cy="${py}" r="3" fill="${s.color}"/>`);
    }
    flush();
  }

  // Legend: a row under the title; item widths from the label length (≈7 px a character at 12 px).
  const legendLabel = (s: Series) => (s.axis === 'metric' ? `${s.label} (right)` : s.label);
  const itemWidth = (s: Series) => 32 + 7 * legendLabel(s).length + 24;
  let lx = W / 2 - present.reduce((sum, s) => sum + itemWidth(s), 0) / 2;
  for (const s of present) {
    const ly = 50;
    o.push(`<line x1="${lx}" x2="${lx + 26}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`);
    o.push(`<circle cx="${lx + 13}" cy="${ly}" r="3" fill="${s.color}"/>`);
    text(lx + 32, ly + 4, legendLabel(s));
    lx += itemWidth(s);
  }
  if (!pts.length) text(W / 2, M.top + ph / 2, 'no epochs logged yet', { anchor: 'middle', fill: '#888' });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">${o.join('')}</svg>`;
}

/** Renders the learning curve to a PNG at `path`, written atomically (temp file + rename). */
export async function renderLearningCurve(
  log: { epoch: number; trainLoss: number; valLoss?: number; valSprc?: number; valLcc?: number }[],
  path: string,
  title: string,
): Promise<void> {
  const png = await sharp(Buffer.from(learningCurveSvg(log, title)))
    .png()
    .toBuffer()
    .catch((e: Error) => {
      throw new Error(`learning curve ${path}: rendering the SVG failed (${e.message})`, { cause: e });
    });
  try {
    writeFileAtomic(path, png);
  } catch (e) {
    throw new Error(`learning curve ${path}: cannot write (${(e as Error).message})`, { cause: e });
  }
}
