// The ONNX sentence encoder on a tiny BERT-like model built here: embedding lookup (Gather) plus
// a token-type embedding, then a MatMul, as "last_hidden_state"; pooled output checked by hand.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { OnnxSentenceEncoder } from '../../runtime/extract/sentence-encoder.ts';
import { WordPieceTokenizer } from '../../runtime/extract/wordpiece.ts';
import { tempDir } from './helpers.ts';

const { onnx } = onnxProto;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;
const VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', 'join', 'the', 'battle', '##s', 'now', '!', 'play'];
const D = 3;
// Embedding of token i: [i, (i % 3) - 1, 1]; token type 0 adds [0, 0, 0.5]; W doubles x and swaps y/z.
const E = VOCAB.flatMap((_, i) => [i, (i % 3) - 1, 1]);
const TYPE = [0, 0, 0.5, 9, 9, 9];
const W = [2, 0, 0, 0, 0, 1, 0, 1, 0];

function tinyBert(): Uint8Array {
  const t = (name: string, dims: number[], v: number[]) => onnx.TensorProto.create({ name, dims, dataType: FLOAT, rawData: new Uint8Array(Float32Array.from(v).buffer) });
  const io = (name: string, type: number, dims: (number | string)[]) =>
    onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: type, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } } });
  const n = (opType: string, input: string[], output: string[]) => onnx.NodeProto.create({ opType, input, output });
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'tiny-bert',
      node: [n('Gather', ['E', 'input_ids'], ['tok']), n('Gather', ['TYPE', 'token_type_ids'], ['typ']), n('Add', ['tok', 'typ'], ['emb']), n('MatMul', ['emb', 'W'], ['last_hidden_state'])],
      initializer: [t('E', [VOCAB.length, D], E), t('TYPE', [2, D], TYPE), t('W', [D, D], W)],
      input: [io('input_ids', INT64, ['N', 'T']), io('attention_mask', INT64, ['N', 'T']), io('token_type_ids', INT64, ['N', 'T'])],
      output: [io('last_hidden_state', FLOAT, ['N', 'T', D])],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

const tmp = tempDir('encoder');
const dir = join(tmp.dir, 'tiny-bert');
test.before(() => {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model.onnx'), tinyBert());
  writeFileSync(join(dir, 'vocab.txt'), VOCAB.join('\n') + '\n');
});
test.after(() => tmp.cleanup());

/** Hand computation: hidden(i) = (E[i] + TYPE[0]) · W, mean over tokens, L2-normalised. */
function expected(ids: number[]): number[] {
  const h = ids.map((i) => {
    const e = [E[i * D] + TYPE[0], E[i * D + 1] + TYPE[1], E[i * D + 2] + TYPE[2]];
    return [0, 1, 2].map((c) => e[0] * W[c] + e[1] * W[3 + c] + e[2] * W[6 + c]);
  });
  const m = [0, 1, 2].map((c) => h.reduce((s, v) => s + v[c], 0) / h.length);
  const norm = Math.hypot(...m);
  return m.map((x) => x / norm);
}

test('WordPiece: lower-case, punctuation split, ## continuations, [UNK]', () => {
  const tok = new WordPieceTokenizer(VOCAB);
  assert.equal(tok.encode('Join the Battles NOW!').inputIds, [2, 4, 5, 6, 7, 8, 9, 3]);
  assert.equal(tok.encode('play chess').inputIds, [2, 10, 1, 3]);
  assert.equal(new WordPieceTokenizer(VOCAB, { maxLength: 4 }).encode('join the battle now').inputIds, [2, 4, 5, 3]);
});

test('pooled embeddings equal the hand computation, padding is masked, cache hits', async () => {
  const enc = await OnnxSentenceEncoder.create({ dir });
  try {
    assert.is(enc.dim, D);
    assert.is(enc.id, 'onnx:tiny-bert');
    const texts = ['join the battles now!', 'play', 'join the battles now!'];
    const out = await enc.encode(texts);
    const want = [expected([2, 4, 5, 6, 7, 8, 9, 3]), expected([2, 10, 3])];
    for (const [i, w] of [[0, want[0]], [1, want[1]], [2, want[0]]] as const) for (let c = 0; c < D; c++) assert.ok(Math.abs(out[i][c] - w[c]) < 1e-6, `text ${i} dim ${c}: ${out[i][c]} vs ${w[c]}`);
    assert.is(out[0], out[2], 'repeated sentence served from the cache');
    assert.is(enc.cacheMisses, 2);
    await enc.encode(['play']);
    assert.is(enc.cacheHits, 2);
  } finally {
    await enc.release();
  }
});

test('missing model files are named', async () => {
  try {
    await OnnxSentenceEncoder.create({ dir: join(tmp.dir, 'nothing') });
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /nothing\/model\.onnx not found/);
  }
});

test.run();
