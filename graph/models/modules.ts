// The modules of the M2FN family by name. Each is the scope its layers are built in and so the
// prefix of its parameters' names (layers/context.ts createParam); code that needs a module's
// parameters asks here instead of matching name prefixes of its own.
import type { Value } from '../core/ir.ts';
import { denseParams } from '../layers/dense.ts';
import { HEAD_OUT } from '../layers/head.ts';
import type { ParamStore } from '../core/params.ts';
import { VGG_BLOCKS, type ModelConfig } from './config.ts';

export const MODULE = { aux: 'aux', backbone: 'vgg', cbn: 'cbn', att: 'att', fuse: 'fuse', head: 'head' } as const;

/** Scope of the j-th conv of VGG block b, both from 1: "vgg.conv1_1". */
export const convScope = (b: number, j: number) => `${MODULE.backbone}.conv${b}_${j}`;
/** Scope of the batch norm after that conv (backboneNorm "batch"): "vgg.bn1_1". */
export const bnScope = (b: number, j: number) => `${MODULE.backbone}.bn${b}_${j}`;
/** Scope of the conditional batch norm in block b: "cbn1" (a module of its own, not part of vgg). */
export const cbnScope = (b: number) => `${MODULE.cbn}${b}`;

/** Module of a parameter, from its name: vgg, cbn, att, fuse, head or aux. */
export function moduleOf(param: string): string {
  return param.startsWith(MODULE.cbn) ? MODULE.cbn : param.slice(0, param.indexOf('.'));
}

/** Whether a parameter belongs to the VGG backbone (what --freeze-backbone and pretrained import touch). */
export const isBackboneParam = (param: string) => moduleOf(param) === MODULE.backbone;

/** The backbone's convs in graph order. */
export function backboneConvs(cfg: Pick<ModelConfig, 'backbone'>, params: ParamStore): { weight: Value; bias: Value }[] {
  return VGG_BLOCKS[cfg.backbone].flatMap((convs, b) => Array.from({ length: convs }, (_, j) => denseParams(params, convScope(b + 1, j + 1))));
}

/** The head's last layer, whose outputs are the logits. */
export const headOutput = (params: ParamStore) => denseParams(params, `${MODULE.head}.${HEAD_OUT}`);
