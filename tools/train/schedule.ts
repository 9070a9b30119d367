// Learning-rate schedules for the trainer. `step` counts optimizer steps from 0; `totalSteps` is
// the number of steps the run will take (epochs × batches per epoch).
//
//   constant                lr = base
//   step:S:G                lr = base · G^floor(step / S)
//   cosine[:warmup=W][:min=M]
//                           step < W:  lr = base · (step + 1) / W      (linear warm-up; the first
//                                      step already trains, at base / W)
//                           step ≥ W:  t = min(1, (step − W) / (totalSteps − W))
//                                      lr = M + (base − M) · (1 + cos(π t)) / 2
//                           W defaults to 0 and M to 0. The denominator is totalSteps − W, so the
//                           last step (totalSteps − 1) still has a small positive rate rather than
//                           a wasted step at exactly M; steps past totalSteps stay at M.

export type Schedule = { kind: 'constant' } | { kind: 'step'; stepSize: number; gamma: number } | { kind: 'cosine'; warmup: number; minLr?: number };

const FORMS = '"constant", "step:<stepSize>:<gamma>" (e.g. "step:1000:0.5"), "cosine", "cosine:warmup=<steps>", "cosine:warmup=<steps>:min=<lr>"';

function checkSchedule(s: Schedule, what: string): void {
  const bad = (msg: string): never => {
    throw new Error(`${what}: ${msg}`);
  };
  switch (s.kind) {
    case 'constant':
      return;
    case 'step':
      if (!Number.isSafeInteger(s.stepSize) || s.stepSize < 1) bad(`stepSize must be a positive integer, got ${s.stepSize}`);
      if (!Number.isFinite(s.gamma) || s.gamma <= 0) bad(`gamma must be a positive number, got ${s.gamma}`);
      return;
    case 'cosine':
      if (!Number.isSafeInteger(s.warmup) || s.warmup < 0) bad(`warmup must be a non-negative integer, got ${s.warmup}`);
      if (s.minLr !== undefined && !(Number.isFinite(s.minLr) && s.minLr >= 0)) bad(`minLr must be a non-negative number, got ${s.minLr}`);
      return;
    default:
      bad(`unknown schedule kind ${JSON.stringify((s as { kind: unknown }).kind)}; expected constant, step or cosine`);
  }
}

/** The learning rate for optimizer step `step` (0-based) of a run of `totalSteps` steps. */
export function learningRate(base: number, schedule: Schedule, step: number, totalSteps: number): number {
  if (!(Number.isFinite(base) && base > 0)) throw new Error(`learningRate: base learning rate must be a positive number, got ${base}`);
  if (!Number.isSafeInteger(step) || step < 0) throw new Error(`learningRate: step must be a non-negative integer, got ${step}`);
  if (!Number.isSafeInteger(totalSteps) || totalSteps < 1) throw new Error(`learningRate: totalSteps must be a positive integer, got ${totalSteps}`);
  checkSchedule(schedule, 'learningRate');
  switch (schedule.kind) {
    case 'constant':
      return base;
    case 'step':
      return base * schedule.gamma ** Math.floor(step / schedule.stepSize);
    case 'cosine': {
      const { warmup } = schedule;
      const minLr = schedule.minLr ?? 0;
      if (minLr > base) throw new Error(`learningRate: cosine minLr ${minLr} is above the base learning rate ${base}`);
      // Without room for the decay the schedule would be only a ramp; that is a config mistake.
      if (warmup >= totalSteps) {
        throw new Error(
          `learningRate: cosine warmup (${warmup} steps) must be shorter than the run (${totalSteps} steps); ` +
            `use a shorter warm-up, e.g. cosine:warmup=${Math.floor(totalSteps / 10)}`,
        );
      }
      if (step < warmup) return (base * (step + 1)) / warmup;
      const t = Math.min(1, (step - warmup) / (totalSteps - warmup));
      return minLr + ((base - minLr) * (1 + Math.cos(Math.PI * t))) / 2;
    }
  }
}

function parseNumber(text: string, what: string, spec: string): number {
  // Number('') is 0 and Number(' 1') is 1; insist on a real numeric literal.
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text)) {
    throw new Error(`learning-rate schedule "${spec}": ${what} "${text}" is not a number`);
  }
  return Number(text);
}

/** Parses the CLI form of a schedule (see the forms in the file comment). */
export function parseSchedule(spec: string): Schedule {
  const fail = (why: string): never => {
    throw new Error(`learning-rate schedule "${spec}": ${why}; accepted forms: ${FORMS}`);
  };
  const parts = spec.trim().split(':');
  const kind = parts[0].toLowerCase();
  let s: Schedule;
  if (kind === 'constant') {
    if (parts.length > 1) fail('"constant" takes no parameters');
    s = { kind: 'constant' };
  } else if (kind === 'step') {
    if (parts.length !== 3) fail('"step" needs exactly a step size and a factor');
    s = { kind: 'step', stepSize: parseNumber(parts[1], 'step size', spec), gamma: parseNumber(parts[2], 'factor', spec) };
  } else if (kind === 'cosine') {
    const c: { kind: 'cosine'; warmup: number; minLr?: number } = { kind: 'cosine', warmup: 0 };
    const seen = new Set<string>();
    for (const p of parts.slice(1)) {
      const m = /^([a-z]+)=(.*)$/i.exec(p);
      if (!m) fail(`"${p}" is not key=value`);
      const key = m![1].toLowerCase();
      if (seen.has(key)) fail(`"${key}" is given twice`);
      seen.add(key);
      if (key === 'warmup') c.warmup = parseNumber(m![2], 'warmup', spec);
      else if (key === 'min') c.minLr = parseNumber(m![2], 'min', spec);
      else fail(`unknown cosine parameter "${key}" (known: warmup, min)`);
    }
    s = c;
  } else {
    return fail(`unknown schedule "${parts[0]}"`);
  }
  try {
    checkSchedule(s, `learning-rate schedule "${spec}"`);
  } catch (e) {
    fail((e as Error).message.replace(/^learning-rate schedule "[^"]*": /, ''));
  }
  return s;
}
