// Reverse-mode autodiff over the IR: walks the nodes from the loss back, asking each op's
// gradient rule (ops/*.ts) for its inputs' gradients, and sums gradients where a value fans out.
import { constF32, topoSort, type Value } from '../core/ir.ts';
import { add } from '../ops/elementwise.ts';
import { activeBuilder, scoped } from '../core/builder.ts';
import { rule, type GradCtx } from '../core/registry.ts';

export interface GradOptions {
  ep?: GradCtx['ep'];
  /** Default 2²² (16 MB a sample): past it an unfolded conv input goes in channel chunks. */
  unfoldFloats?: number;
}

/** d loss / d v for every v in `wrt` (a scalar loss). Values the loss does not depend on get zeros. */
export function gradients(loss: Value, wrt: Value[], opts: GradOptions = {}): Map<Value, Value> {
  if (loss.size !== 1) throw new Error(`gradients: the loss must be a scalar, got shape [${loss.shape}]`);
  const nodes = topoSort([loss]);

  // Only values on a path from a wrt value to the loss need gradients.
  const needs = new Set<Value>(wrt);
  for (const n of nodes) {
    if (n.inputs.some((v) => v && needs.has(v)) && !rule(n.op).nondifferentiable) n.outputs.forEach((o) => needs.add(o));
  }

  const pending = new Map<Value, Value[]>([[loss, [constF32(1, loss.shape as number[])]]]);
  const total = (v: Value): Value | null => {
    const parts = pending.get(v);
    if (!parts) return null;
    const sum = parts.reduce((a, b) => add(a, b));
    pending.set(v, [sum]);
    return sum;
  };

  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i];
    const r = rule(node.op);
    if (r.nondifferentiable || !node.inputs.some((v) => v && needs.has(v))) continue;
    const dy = node.outputs.map(total);
    if (dy.every((d) => d === null)) continue;
    const grad = activeBuilder().gradRule(node.op);
    if (!grad) throw new Error(`no gradient rule for ${node.op}${node.scope ? ` in ${node.scope}` : ''}`);
    const dx = scoped(`grad${node.scope ? `/${node.scope}` : ''}`, () =>
      grad({ node, x: node.inputs, y: node.outputs, dy, wants: (k) => !!node.inputs[k] && needs.has(node.inputs[k]!), ep: opts.ep ?? 'cpu', unfoldFloats: opts.unfoldFloats ?? 1 << 22 }),
    );
    node.inputs.forEach((v, k) => {
      const d = dx[k];
      if (!v || !d || !needs.has(v)) return;
      if (String(d.shape) !== String(v.shape)) {
        throw new Error(`gradient rule of ${node.op}${node.scope ? ` in ${node.scope}` : ''} gave input ${k} shape [${d.shape}], expected [${v.shape}]`);
      }
      const list = pending.get(v);
      if (list) list.push(d);
      else pending.set(v, [d]);
    });
  }

  return new Map(
    wrt.map((v) => [v, total(v) ?? constF32(new Array(v.size).fill(0), v.shape as number[])]),
  );
}
