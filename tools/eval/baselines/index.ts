// The attribute-only ("only aux") baselines by name, for the evaluation command.
import { fitLinear } from './linear.ts';
import { fitSvrPoly, fitSvrRbf } from './svr.ts';
import type { FitFn } from './types.ts';

export const baselines: Record<'linear' | 'svr-rbf' | 'svr-poly', FitFn> = {
  linear: (X, y, w) => fitLinear(X, y, w),
  'svr-rbf': fitSvrRbf,
  'svr-poly': fitSvrPoly,
};

export type { FitFn, Regressor } from './types.ts';
