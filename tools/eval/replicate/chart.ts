// Horizontal grouped bar chart for the replication report: per variant, our value with its
// interval whiskers beside the paper's figure, and a dashed line at the noise ceiling. SVG,
// rendered to PNG with the data pipeline's svgToPng (sharp).
import { svgToPng } from '../../data/bar-chart.ts';

export interface ChartRow {
  label: string;
  ours: number;
  lo?: number;
  hi?: number;
  paper?: number;
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  /** A vertical reference line, e.g. the noise ceiling. */
  reference?: { value: number; label: string };
  width?: number;
}

const esc = (s: string) => s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
const FONT = 'font-family="DejaVu Sans, sans-serif"';
const OURS = '#3b6ea8';
const PAPER = '#c9a227';
const REF = '#c0392b';

export function comparisonChartSvg(rows: ChartRow[], o: ChartOptions): string {
  const W = o.width ?? 860;
  const rowH = 30;
  const m = { left: 250, right: 24, top: 58, bottom: 46 };
  const H = m.top + m.bottom + Math.max(1, rows.length) * rowH;
  const pw = W - m.left - m.right;
  const finite = (v: number | undefined): v is number => v !== undefined && Number.isFinite(v);
  const values = rows.flatMap((r) => [r.ours, r.lo, r.hi, r.paper]).filter(finite);
  if (o.reference && finite(o.reference.value)) values.push(o.reference.value);
  const lo = Math.min(0, ...values);
  const hi = Math.max(0.1, ...values);
  const step = [0.05, 0.1, 0.2, 0.25, 0.5].find((s) => (hi - lo) / s <= 10) ?? 1;
  const x0 = Math.floor(lo / step) * step;
  const x1 = Math.ceil(hi / step) * step;
  const x = (v: number) => m.left + ((v - x0) / (x1 - x0)) * pw;
  const p: string[] = [`<rect width="${W}" height="${H}" fill="white"/>`];
  p.push(`<text x="${W / 2}" y="22" text-anchor="middle" ${FONT} font-size="15" font-weight="bold">${esc(o.title)}</text>`);
  // legend
  const ly = 40;
  p.push(`<rect x="${m.left}" y="${ly - 9}" width="14" height="10" fill="${OURS}"/><text x="${m.left + 18}" y="${ly}" ${FONT} font-size="11">ours (95% CI)</text>`);
  p.push(`<rect x="${m.left + 120}" y="${ly - 9}" width="14" height="10" fill="${PAPER}"/><text x="${m.left + 138}" y="${ly}" ${FONT} font-size="11">paper</text>`);
  if (o.reference && finite(o.reference.value)) {
    p.push(`<line x1="${m.left + 200}" x2="${m.left + 220}" y1="${ly - 4}" y2="${ly - 4}" stroke="${REF}" stroke-dasharray="4 3" stroke-width="2"/><text x="${m.left + 224}" y="${ly}" ${FONT} font-size="11">${esc(o.reference.label)}</text>`);
  }
  for (let v = x0; v <= x1 + step / 2; v += step) {
    const xv = x(v);
    p.push(`<line x1="${xv}" x2="${xv}" y1="${m.top}" y2="${H - m.bottom}" stroke="${Math.abs(v) < 1e-9 ? '#333' : '#e2e2e2'}"/>`);
    p.push(`<text x="${xv}" y="${H - m.bottom + 16}" text-anchor="middle" ${FONT} font-size="11">${v.toFixed(2)}</text>`);
  }
  p.push(`<text x="${m.left + pw / 2}" y="${H - 10}" text-anchor="middle" ${FONT} font-size="12">${esc(o.xLabel)}</text>`);
  rows.forEach((r, i) => {
    const yTop = m.top + i * rowH;
    const base = x(0);
    p.push(`<text x="${m.left - 8}" y="${yTop + rowH / 2 + 4}" text-anchor="end" ${FONT} font-size="11">${esc(r.label)}</text>`);
    const bar = (v: number, y: number, h: number, fill: string) => {
      const a = Math.min(base, x(v));
      p.push(`<rect x="${a}" y="${y}" width="${Math.abs(x(v) - base)}" height="${h}" fill="${fill}"/>`);
    };
    if (finite(r.ours)) bar(r.ours, yTop + 4, 11, OURS);
    if (finite(r.lo) && finite(r.hi)) {
      const cy = yTop + 9.5;
      p.push(`<line x1="${x(r.lo)}" x2="${x(r.hi)}" y1="${cy}" y2="${cy}" stroke="#111" stroke-width="1.3"/>`);
      p.push(`<line x1="${x(r.lo)}" x2="${x(r.lo)}" y1="${cy - 4}" y2="${cy + 4}" stroke="#111"/><line x1="${x(r.hi)}" x2="${x(r.hi)}" y1="${cy - 4}" y2="${cy + 4}" stroke="#111"/>`);
    }
    if (finite(r.paper)) bar(r.paper, yTop + 16, 9, PAPER);
  });
  if (o.reference && finite(o.reference.value)) {
    const xr = x(o.reference.value);
    p.push(`<line x1="${xr}" x2="${xr}" y1="${m.top - 4}" y2="${H - m.bottom}" stroke="${REF}" stroke-dasharray="5 4" stroke-width="2"/>`);
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">${p.join('')}</svg>`;
}

export async function comparisonChartPng(rows: ChartRow[], o: ChartOptions): Promise<Buffer> {
  return svgToPng(comparisonChartSvg(rows, o));
}
