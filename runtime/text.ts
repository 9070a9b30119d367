// Text attributes become vectors through a pluggable encoder, so apps can bring their own
// (a sentence-embedding model) while tests and offline use run without one.

export interface TextEncoder {
  /** Stable identifier recorded in model cards, e.g. "hashing-v1" or "onnx:all-MiniLM". */
  readonly id: string;
  /** Length of every vector this encoder returns. */
  readonly dim: number;
  /** One vector of length `dim` per input text, in order. */
  encode(texts: string[]): Promise<Float32Array[]>;
}
