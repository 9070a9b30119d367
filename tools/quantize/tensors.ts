// Reading and writing ONNX initializers (TensorProto) for the quantization passes, which work on
// the decoded protobuf rather than on the graph DSL so that they apply to any trained model file.
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
export type TensorProto = InstanceType<typeof onnx.TensorProto>;
export const DataType = onnx.TensorProto.DataType;

/** A float32 initializer's values (raw bytes or float_data); `what` names it in the error. */
export function floatData(t: TensorProto, what = t.name ?? 'initializer'): Float32Array {
  if (t.dataType !== DataType.FLOAT) throw new Error(`${what}: expected a float32 initializer, got data type ${t.dataType}`);
  if (t.rawData?.length) return new Float32Array(Uint8Array.from(t.rawData).buffer);
  return Float32Array.from(t.floatData ?? []);
}

/** An int64 initializer's values as numbers, or null when `t` is not int64. */
export function int64Data(t: TensorProto): number[] | null {
  if (t.dataType !== DataType.INT64) return null;
  return t.rawData?.length ? Array.from(new BigInt64Array(Uint8Array.from(t.rawData).buffer), Number) : (t.int64Data ?? []).map(Number);
}

export function initializer(name: string, dataType: number, dims: number[], data: ArrayBufferView): TensorProto {
  return onnx.TensorProto.create({ name, dataType, dims, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
}
