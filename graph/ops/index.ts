// The op builders, one import for model code.
export * from './elementwise.ts';
export * from './nn.ts';
export * from './tensor.ts';
export { scoped, apply, apply1, OPS } from './registry.ts';
