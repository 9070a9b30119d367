// Progress lines for long jobs go to stderr so stdout stays clean for JSON results.

export interface Progress {
  stage(name: string): void;
  step(done: number, total: number): void;
  done(message?: string): void;
}

export function stderrProgress(enabled = true): Progress {
  let current = '';
  let started = 0;
  let lastPrint = 0;
  return {
    stage(name) {
      current = name;
      started = performance.now();
      if (enabled) process.stderr.write(`[m2fn] ${name}…\n`);
    },
    step(done, total) {
      const now = performance.now();
      if (!enabled || now - lastPrint < 1000) return;
      lastPrint = now;
      const pct = total > 0 ? ((100 * done) / total).toFixed(1) : '?';
      process.stderr.write(`[m2fn] ${current}: ${done}/${total} (${pct}%)\n`);
    },
    done(message) {
      if (!enabled) return;
      const s = ((performance.now() - started) / 1000).toFixed(2);
      process.stderr.write(`[m2fn] ${current} done in ${s}s${message ? `: ${message}` : ''}\n`);
    },
  };
}

export const silentProgress: Progress = { stage() {}, step() {}, done() {} };
