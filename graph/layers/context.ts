// What every layer needs besides its inputs: where parameters come from and which mode it is in.
import type { Value } from '../ir.ts';
import type { ParamStore } from '../params.ts';

export interface LayerCtx {
  params: ParamStore;
  /** Training graphs use batch statistics and dropout; eval and inference graphs do not. */
  training: boolean;
  /** Running-statistic momentum, PyTorch convention: new = (1 - m) · running + m · batch. */
  bnMomentum: number;
  bnEps: number;
  /** Filled by training-mode norm layers: statistic parameter → its updated value. */
  statUpdates: Map<Value, Value>;
  /** Filled by dropout layers in training mode: mask inputs the trainer must feed. */
  dropoutMasks: Value[];
}
