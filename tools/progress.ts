// Progress on stderr, so stdout stays clean for results (JSON, tables). Two reporters share it:
//
// A stage log for jobs made of named stages (data synthesis and preparation):
//
//   [m2fn] render 400 images…
//   [m2fn] render 400 images: 120/400 (30.0%)        at most once a second
//   [m2fn] render 400 images done in 3.21s: note
//
// A progress bar for long counted work (epochs, cache builds, scoring):
//
//   label [#########...........] 45/100 loss 0.123 · 12.3 img/s · ETA 1m05s
//
// On a TTY the line is redrawn in place (at most 10 times a second). Elsewhere — CI logs, files —
// redrawing would write thousands of lines, so a plain line is printed at most every 5 s and once
// at the end. The rate behind the ETA is an exponential moving average with a 10 s time constant:
// steady enough not to jump with every batch, quick enough to forget a slow first step (session
// warm-up, cache build).

export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  total: number;
  label: string;
  /** Default process.stderr. */
  stream?: ProgressStream;
  /** What is counted, for the rate ("img/s"). Default "it". */
  unit?: string;
  /** Items already done (a resumed epoch). Default 0. */
  start?: number;
  /** Characters inside the brackets. Default 20. */
  barWidth?: number;
  /** Minimum time between plain (non-TTY) lines, ms. Default 5000. */
  plainIntervalMs?: number;
  /** Clock in ms, for tests. Default performance.now. */
  now?: () => number;
}

export interface Progress {
  /** `n` more items are done; `fields` (e.g. { loss: 0.123 }) are shown until the next tick. */
  tick(n: number, fields?: Record<string, string | number>): void;
  /** Ends the bar with a last line: count, elapsed time, mean rate and `summary`. */
  done(summary?: string): void;
}

const TTY_INTERVAL_MS = 100;
const RATE_TAU_MS = 10_000;
/** Ticks closer together than this are pooled before they update the rate (no 0-ms intervals). */
const RATE_MIN_WINDOW_MS = 50;

/** 45 → "45s", 65 → "1m05s", 7380 → "2h03m", 400000 → "4d15h" (from 100 h up); unknown → "--". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--';
  const s = Math.round(seconds);
  const pad = (v: number) => String(v).padStart(2, '0');
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${pad(s % 60)}s`;
  const m = Math.round(s / 60);
  if (m < 100 * 60) return `${Math.floor(m / 60)}h${pad(m % 60)}m`;
  const h = Math.round(s / 3600);
  return `${Math.floor(h / 24)}d${pad(h % 24)}h`;
}

/** `width` characters: '#' for the done fraction (rounded down), '.' for the rest. */
export function renderBar(done: number, total: number, width: number): string {
  const frac = total > 0 ? Math.min(1, Math.max(0, done / total)) : 1;
  const filled = Math.floor(frac * width + 1e-9);
  return '#'.repeat(filled) + '.'.repeat(width - filled);
}

/** Three significant digits, exponent form for very small or large values, integers as they are. */
export function formatValue(v: string | number): string {
  if (typeof v === 'string') return v;
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v) && Math.abs(v) < 1e6) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e4)) return v.toExponential(2);
  return v.toPrecision(3);
}

export function createProgress(opts: ProgressOptions): Progress {
  const { total, label } = opts;
  if (!(Number.isFinite(total) && total >= 0)) throw new Error(`progress "${label}": total must be a non-negative number, got ${total}`);
  const stream: ProgressStream = opts.stream ?? process.stderr;
  const tty = stream.isTTY === true;
  const unit = opts.unit ?? 'it';
  const barWidth = opts.barWidth ?? 20;
  const plainInterval = opts.plainIntervalMs ?? 5000;
  const now = opts.now ?? (() => performance.now());

  const t0 = now();
  const startCount = opts.start ?? 0;
  let count = startCount;
  let fields: Record<string, string | number> = {};
  let rate: number | null = null;
  let windowStart = t0;
  let windowItems = 0;
  let lastDraw = -Infinity;
  let lastPlain = t0;
  let finished = false;

  const fieldText = () =>
    Object.entries(fields)
      .map(([k, v]) => `${k} ${formatValue(v)}`)
      .join(' · ');

  const line = (withBar: boolean) => {
    const parts: string[] = [];
    const f = fieldText();
    if (f) parts.push(f);
    parts.push(rate === null ? `-- ${unit}/s` : `${formatValue(rate)} ${unit}/s`);
    parts.push(`ETA ${rate && rate > 0 ? formatDuration(Math.max(0, total - count) / rate) : '--'}`);
    const pct = total > 0 ? ` (${Math.floor((100 * count) / total)}%)` : '';
    const head = withBar ? `${label} [${renderBar(count, total, barWidth)}] ${count}/${total}` : `${label} ${count}/${total}${pct}`;
    return `${head} ${parts.join(' · ')}`;
  };

  const fit = (text: string) => {
    // A redrawn line that wraps can no longer be overwritten with \r; cut it to the terminal.
    const cols = stream.columns;
    return cols && cols > 1 && text.length > cols - 1 ? text.slice(0, cols - 1) : text;
  };

  return {
    tick(n, newFields) {
      if (finished) return;
      if (!(Number.isFinite(n) && n >= 0)) throw new Error(`progress "${label}": tick count must be a non-negative number, got ${n}`);
      count += n;
      if (newFields) fields = newFields;
      const t = now();
      windowItems += n;
      const dt = t - windowStart;
      if (dt >= RATE_MIN_WINDOW_MS) {
        const r = (1000 * windowItems) / dt;
        rate = rate === null ? r : rate + (1 - Math.exp(-dt / RATE_TAU_MS)) * (r - rate);
        windowStart = t;
        windowItems = 0;
      }
      if (tty) {
        if (t - lastDraw < TTY_INTERVAL_MS) return;
        lastDraw = t;
        stream.write(`\r${fit(line(true))}\x1b[K`);
      } else if (t - lastPlain >= plainInterval) {
        lastPlain = t;
        stream.write(`${line(false)}\n`);
      }
    },
    done(summary) {
      if (finished) return;
      finished = true;
      const elapsed = (now() - t0) / 1000;
      const mean = elapsed > 0 ? (count - startCount) / elapsed : NaN;
      const f = fieldText();
      const text = `${label} ${count}/${total} done in ${formatDuration(elapsed)}${Number.isFinite(mean) ? ` (${formatValue(mean)} ${unit}/s)` : ''}${f ? ` · ${f}` : ''}${summary ? ` · ${summary}` : ''}`;
      stream.write(tty ? `\r${text}\x1b[K\n` : `${text}\n`);
    },
  };
}

/** The stage log's reporter: `stage` opens a stage, `step` reports its count, `done` closes it. */
export interface StageProgress {
  stage(name: string): void;
  step(done: number, total: number): void;
  done(message?: string): void;
}

/** The stage log on `stream` (default process.stderr); `enabled` false writes nothing. */
export function stderrProgress(enabled = true, opts: { stream?: ProgressStream; now?: () => number } = {}): StageProgress {
  const stream = opts.stream ?? process.stderr;
  const now = opts.now ?? (() => performance.now());
  let current = '';
  let started = 0;
  let lastPrint = 0;
  return {
    stage(name) {
      current = name;
      started = now();
      if (enabled) stream.write(`[m2fn] ${name}…\n`);
    },
    step(done, total) {
      const t = now();
      if (!enabled || t - lastPrint < 1000) return;
      lastPrint = t;
      const pct = total > 0 ? ((100 * done) / total).toFixed(1) : '?';
      stream.write(`[m2fn] ${current}: ${done}/${total} (${pct}%)\n`);
    },
    done(message) {
      if (!enabled) return;
      const s = ((now() - started) / 1000).toFixed(2);
      stream.write(`[m2fn] ${current} done in ${s}s${message ? `: ${message}` : ''}\n`);
    },
  };
}

export const silentProgress: StageProgress = { stage() {}, step() {}, done() {} };
