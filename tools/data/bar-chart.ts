// Bar charts as SVG (rendered to PNG with sharp), in the spirit of the paper's Fig. 4: one bar
// per level, CTR on the y axis with 95% interval whiskers.
import sharp from 'sharp';

export interface Bar {
  label: string;
  value: number;
  low?: number;
  high?: number;
}

const esc = (s: string) => s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

function niceStep(range: number, ticks: number): number {
  const raw = range / ticks;
  const mag = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
}

export function barChartSvg(title: string, bars: Bar[], o: { width?: number; height?: number; yLabel?: string; percent?: boolean } = {}): string {
  const W = o.width ?? 640;
  const H = o.height ?? 360;
  const m = { left: 64, right: 16, top: 40, bottom: 56 };
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;
  const maxV = Math.max(...bars.map((b) => b.high ?? b.value), 1e-9);
  const step = niceStep(maxV, 5);
  const top = Math.ceil(maxV / step) * step;
  const y = (v: number) => m.top + ph - (v / top) * ph;
  const bw = pw / bars.length;
  const fmt = (v: number) => (o.percent ? `${(v * 100).toFixed(step * 100 < 1 ? 2 : 1)}%` : v.toPrecision(3));
  const parts: string[] = [];
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<text x="${W / 2}" y="24" text-anchor="middle" font-family="DejaVu Sans, sans-serif" font-size="16" font-weight="bold">${esc(title)}</text>`);
  for (let v = 0; v <= top + step / 2; v += step) {
    parts.push(`<line x1="${m.left}" x2="${W - m.right}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`);
    parts.push(`<text x="${m.left - 6}" y="${y(v) + 4}" text-anchor="end" font-family="DejaVu Sans, sans-serif" font-size="11">${fmt(v)}</text>`);
  }
  const labelEvery = bars.length > 16 ? 2 : 1;
  bars.forEach((b, i) => {
    const x = m.left + i * bw;
    parts.push(`<rect x="${x + bw * 0.15}" y="${y(b.value)}" width="${bw * 0.7}" height="${Math.max(0, y(0) - y(b.value))}" fill="#3b6ea8"/>`);
    if (b.low !== undefined && b.high !== undefined) {
      const cx = x + bw / 2;
      parts.push(`<line x1="${cx}" x2="${cx}" y1="${y(b.low)}" y2="${y(b.high)}" stroke="#222" stroke-width="1.2"/>`);
      parts.push(`<line x1="${cx - bw * 0.15}" x2="${cx + bw * 0.15}" y1="${y(b.high)}" y2="${y(b.high)}" stroke="#222"/>`);
      parts.push(`<line x1="${cx - bw * 0.15}" x2="${cx + bw * 0.15}" y1="${y(b.low)}" y2="${y(b.low)}" stroke="#222"/>`);
    }
    if (i % labelEvery === 0) parts.push(`<text x="${x + bw / 2}" y="${H - m.bottom + 16}" text-anchor="middle" font-family="DejaVu Sans, sans-serif" font-size="11">${esc(b.label)}</text>`);
  });
  parts.push(`<line x1="${m.left}" x2="${W - m.right}" y1="${y(0)}" y2="${y(0)}" stroke="#333"/>`);
  if (o.yLabel) parts.push(`<text transform="translate(14 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle" font-family="DejaVu Sans, sans-serif" font-size="12">${esc(o.yLabel)}</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">${parts.join('')}</svg>`;
}

export async function svgToPng(svg: string): Promise<Buffer> {
  return sharp(Buffer.from(svg)).png().toBuffer();
}
