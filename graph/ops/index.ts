// The op builders, one import for model code.
export * from './elementwise.ts';
export * from './nn.ts';
export * from './tensor.ts';
export { build, scoped, apply, apply1, GraphBuilder } from '../core/builder.ts';
