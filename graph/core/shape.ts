// Shape arithmetic shared by the op rules, and the error every rule throws.
import type { Dim, Shape, Value } from './ir.ts';

export const fmt = (s: Shape) => `[${s.join(',')}]`;

export class ShapeError extends Error {
  constructor(op: string, scope: string, message: string, inputs: (Value | null)[]) {
    const where = scope ? `${op} in ${scope}` : op;
    const shapes = inputs.map((v, i) => (v ? `${v.name ?? `input${i}`} ${fmt(v.shape)}` : `input${i} none`)).join(', ');
    super(`${where}: ${message} (inputs: ${shapes})`);
    this.name = 'ShapeError';
  }
}

/** Numpy-style broadcast; returns null when the shapes are incompatible. */
export function broadcast(a: Shape, b: Shape): Shape | null {
  const n = Math.max(a.length, b.length);
  const out: Shape = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x === y || y === 1) out.push(x);
    else if (x === 1) out.push(y);
    else return null;
  }
  return out;
}

export function normAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

export function product(dims: Dim[]): number {
  return dims.reduce<number>((n, d) => (typeof d === 'number' ? n * d : NaN), 1);
}
