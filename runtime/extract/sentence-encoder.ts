// Sentence embeddings from a BERT-like ONNX model in a local directory (no download): WordPiece
// tokens → model (input_ids, attention_mask and, if the model takes it, token_type_ids) → last
// hidden state [N, T, D] → mean over unmasked tokens → L2-normalised. Embeddings are cached per
// unique sentence, since ad logs repeat the same titles, descriptions and OCR strings.
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { TextEncoder } from '../text.ts';
import { WordPieceTokenizer } from './wordpiece.ts';

export interface SentenceEncoderOptions {
  /** Directory holding the model and vocab.txt. */
  dir: string;
  modelFile?: string;
  vocabFile?: string;
  maxLength?: number;
  lowercase?: boolean;
  batchSize?: number;
  /** Output to pool; default 'last_hidden_state' if present, else the first output. */
  outputName?: string;
  /** Recorded as `onnx:<name>`; default the directory's name. */
  name?: string;
}

export class OnnxSentenceEncoder implements TextEncoder {
  readonly id: string;
  readonly dim: number;
  private readonly cache = new Map<string, Float32Array>();
  cacheHits = 0;
  cacheMisses = 0;

  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly tokenizer: WordPieceTokenizer,
    private readonly outputName: string,
    private readonly batchSize: number,
    id: string,
    dim: number,
  ) {
    this.id = id;
    this.dim = dim;
  }

  static async create(o: SentenceEncoderOptions): Promise<OnnxSentenceEncoder> {
    const modelPath = join(o.dir, o.modelFile ?? 'model.onnx');
    const vocabPath = join(o.dir, o.vocabFile ?? 'vocab.txt');
    for (const p of [modelPath, vocabPath]) if (!existsSync(p)) throw new Error(`sentence encoder: ${p} not found (expected a model and its vocab.txt in ${o.dir})`);
    const tokenizer = WordPieceTokenizer.fromFile(vocabPath, { maxLength: o.maxLength, lowercase: o.lowercase });
    const session = await ort.InferenceSession.create(modelPath);
    for (const need of ['input_ids', 'attention_mask']) if (!session.inputNames.includes(need)) throw new Error(`sentence encoder: ${modelPath} has no input "${need}" (inputs: ${session.inputNames.join(', ')})`);
    const outputName = o.outputName ?? (session.outputNames.includes('last_hidden_state') ? 'last_hidden_state' : session.outputNames[0]);
    if (!session.outputNames.includes(outputName)) throw new Error(`sentence encoder: ${modelPath} has no output "${outputName}" (outputs: ${session.outputNames.join(', ')})`);
    const probe = new OnnxSentenceEncoder(session, tokenizer, outputName, o.batchSize ?? 32, '', 0);
    const [v] = await probe.run(['dimension probe']);
    return new OnnxSentenceEncoder(session, tokenizer, outputName, o.batchSize ?? 32, `onnx:${o.name ?? basename(o.dir)}`, v.length);
  }

  async encode(texts: string[]): Promise<Float32Array[]> {
    const missing = [...new Set(texts.filter((t) => !this.cache.has(t)))];
    this.cacheHits += texts.length - missing.length;
    this.cacheMisses += missing.length;
    for (let i = 0; i < missing.length; i += this.batchSize) {
      const batch = missing.slice(i, i + this.batchSize);
      const vecs = await this.run(batch);
      batch.forEach((t, j) => this.cache.set(t, vecs[j]));
    }
    return texts.map((t) => this.cache.get(t)!);
  }

  async release(): Promise<void> {
    await this.session.release();
  }

  /** Tokenise, pad to the batch's longest, run, mean-pool over the mask, L2-normalise. */
  private async run(texts: string[]): Promise<Float32Array[]> {
    const enc = texts.map((t) => this.tokenizer.encode(t));
    const N = enc.length;
    const T = Math.max(...enc.map((e) => e.inputIds.length));
    const ids = new BigInt64Array(N * T).fill(BigInt(this.tokenizer.pad));
    const mask = new BigInt64Array(N * T);
    enc.forEach((e, n) => e.inputIds.forEach((id, t) => { ids[n * T + t] = BigInt(id); mask[n * T + t] = 1n; }));
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', ids, [N, T]),
      attention_mask: new ort.Tensor('int64', mask, [N, T]),
    };
    if (this.session.inputNames.includes('token_type_ids')) feeds.token_type_ids = new ort.Tensor('int64', new BigInt64Array(N * T), [N, T]);
    const out = (await this.session.run(feeds))[this.outputName];
    if (out.dims.length !== 3 || out.dims[0] !== N || out.dims[1] !== T) throw new Error(`sentence encoder: output "${this.outputName}" has shape [${out.dims.join(', ')}], expected [${N}, ${T}, D]`);
    const D = out.dims[2];
    const h = out.data as Float32Array;
    return enc.map((e, n) => {
      const v = new Float32Array(D);
      const len = e.inputIds.length;
      for (let t = 0; t < len; t++) for (let d = 0; d < D; d++) v[d] += h[(n * T + t) * D + d];
      let norm = 0;
      for (let d = 0; d < D; d++) { v[d] /= len; norm += v[d] * v[d]; }
      norm = Math.sqrt(norm) || 1;
      for (let d = 0; d < D; d++) v[d] /= norm;
      return v;
    });
  }
}
