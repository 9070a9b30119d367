// Element types the DSL speaks, with their ONNX TensorProto codes and JS storage.

export type DType = 'float32' | 'int64' | 'int32' | 'bool';

export const ONNX_DTYPE: Record<DType, number> = { float32: 1, int32: 6, int64: 7, bool: 9 };

export const DTYPE_OF_ONNX: Record<number, DType> = { 1: 'float32', 6: 'int32', 7: 'int64', 9: 'bool' };

export type TensorData = Float32Array | BigInt64Array | Int32Array | Uint8Array;
