// npm run bench:prepare — generate and prepare a 20M-impression synthetic log and print JSON with
// rows/s per stage and the peak RSS of each process. Each stage runs in its own child process so
// its peak RSS is its own. Options: --rows N (default 20,000,000), --keep (leave files in out/).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { synthesize, DEFAULT_SYNTH } from '../tools/data/synth.ts';
import { prepare, DEFAULT_PREPARE } from '../tools/data/prepare.ts';

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};

async function child(stage: string, dir: string, rows: number): Promise<void> {
  const t = performance.now();
  let result: unknown;
  if (stage === 'synth') {
    const r = await synthesize({ ...DEFAULT_SYNTH, out: join(dir, 'world'), impressions: rows, imageSize: 64 });
    result = {
      rows: r.rows,
      instances: r.instances,
      stages: {
        'draw instances': { seconds: r.seconds.instances, rowsPerSecond: Math.round(r.cleanRows / r.seconds.instances) },
        'render images': { seconds: r.seconds.render },
        'write log (expand + Parquet)': { seconds: r.seconds.log, rowsPerSecond: Math.round(r.rows / r.seconds.log) },
      },
    };
  } else {
    const world = join(dir, 'world');
    const r = await prepare({ ...DEFAULT_PREPARE, logs: [join(world, 'impressions.parquet')], images: join(world, 'images'), truth: join(world, 'truth.parquet'), out: join(dir, 'dataset'), imageSize: 64 });
    result = { rows: r.report.raw.rows, keptInstances: r.report.kept.instances, rejected: r.report.rejected.total.impressions, stages: r.report.stages };
  }
  const seconds = (performance.now() - t) / 1000;
  process.stdout.write(JSON.stringify({ stage, seconds, peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024), ...(result as object) }) + '\n');
}

if (args[0] === '--child') {
  await child(args[1], args[2], Number(args[3]));
} else {
  const rows = Number(flag('--rows') ?? 20_000_000);
  const dir = mkdtempSync(join(args.includes('--keep') ? 'out' : tmpdir(), 'bench-prepare-'));
  const self = fileURLToPath(import.meta.url);
  const results: unknown[] = [];
  try {
    for (const stage of ['synth', 'prepare']) {
      process.stderr.write(`[bench] ${stage} ${rows.toLocaleString('en')} rows…\n`);
      const r = spawnSync(process.execPath, ['--import', 'tsx', self, '--child', stage, dir, String(rows)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24 });
      if (r.status !== 0) throw new Error(`bench: ${stage} exited with ${r.status}`);
      results.push(JSON.parse(r.stdout.trim().split('\n').pop()!));
    }
  } finally {
    if (!args.includes('--keep')) rmSync(dir, { recursive: true, force: true });
  }
  const prep = results[1] as { stages: Record<string, { rowsPerSecond?: number }> };
  const aggregation = prep.stages['validate+aggregate/group raw rows']?.rowsPerSecond ?? 0;
  console.log(JSON.stringify({
    rows, cpus: cpus().length, node: process.version,
    goal: { aggregationRowsPerSecond: 5_000_000, measured: aggregation, met: aggregation >= 5_000_000 },
    results,
  }, null, 1));
}
