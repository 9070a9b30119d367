// Parameters are created here, by name, with seeded initialisation, so a config and a seed always
// give the same weights.
import { rng } from '../../runtime/random.ts';
import { param, type Value } from './ir.ts';

export type Init =
  | { kind: 'zeros' }
  | { kind: 'ones' }
  /** He-normal for ReLU convs: N(0, 2 / fan_in). */
  | { kind: 'he'; fanIn: number }
  /** PyTorch's default for Linear: U(±1/sqrt(fan_in)). */
  | { kind: 'uniform'; fanIn: number };

/** Whether a parameter is learned or is a running statistic updated by the forward pass. */
export type ParamRole = 'trainable' | 'statistic';

export class ParamStore {
  readonly values = new Map<string, Value>();
  readonly roles = new Map<Value, ParamRole>();
  private readonly next: () => number;

  /**
   * `from`: a store built from the same config and seed, whose arrays are taken instead of making
   * and filling new ones — a second graph of one model (eval beside training) then costs no second
   * copy of its weights. Every parameter must be in it, with the same shape.
   */
  constructor(seed: number, private readonly from?: ParamStore) {
    this.next = rng(seed);
  }

  create(name: string, shape: number[], init: Init, role: ParamRole = 'trainable'): Value {
    if (this.values.has(name)) throw new Error(`parameter ${name} created twice`);
    const data = this.from ? this.shared(name, shape) : new Float32Array(shape.reduce((a, b) => a * b, 1));
    if (!this.from) this.fill(data, init);
    const v = param(name, shape, data);
    this.values.set(name, v);
    this.roles.set(v, role);
    return v;
  }

  private shared(name: string, shape: number[]): Float32Array {
    const v = this.from!.values.get(name);
    if (!v || String(v.shape) !== String(shape)) throw new Error(`parameter ${name} [${shape}] is not in the store it shares arrays with`);
    return v.data as Float32Array;
  }

  get trainable(): Value[] {
    return [...this.values.values()].filter((v) => this.roles.get(v) === 'trainable');
  }

  get statistics(): Value[] {
    return [...this.values.values()].filter((v) => this.roles.get(v) === 'statistic');
  }

  private fill(data: Float32Array, init: Init): void {
    switch (init.kind) {
      case 'zeros':
        return;
      case 'ones':
        data.fill(1);
        return;
      case 'uniform': {
        const bound = 1 / Math.sqrt(init.fanIn);
        for (let i = 0; i < data.length; i++) data[i] = (2 * this.next() - 1) * bound;
        return;
      }
      case 'he': {
        const std = Math.sqrt(2 / init.fanIn);
        // Box–Muller, two normals per pair of uniforms.
        for (let i = 0; i < data.length; i += 2) {
          const r = Math.sqrt(-2 * Math.log(1 - this.next()));
          const t = 2 * Math.PI * this.next();
          data[i] = r * Math.cos(t) * std;
          if (i + 1 < data.length) data[i + 1] = r * Math.sin(t) * std;
        }
        return;
      }
    }
  }
}
