// The public Node API of the m2fn runtime. Nothing here imports graph/ or tools/: apps embed
// this package without the graph builder or the training tools.
export { load, type LoadOptions, type Scorer, type ScoreItem } from './node.ts';
export type { Score, RegressionScore, DistributionScore } from './results.ts';
export type { Explanation } from './scorer-common.ts';
export { readScores, ctrOf, scoreValue } from './results.ts';
export { M2fnInputError } from './errors.ts';
export { whatIf, type WhatIfSweep, type WhatIfScorer } from './whatif.ts';
export { rankCreatives, type Ranking, type RankedCreative } from './rank.ts';
export { type ExecutionProvider, EXECUTION_PROVIDERS } from './execution.ts';
export { validateSchema, encodeAttributes, encodeAttributesBatch, attributeOffsets, type Attributes } from './attributes.ts';
export { HashingTextEncoder, HASHING_TEXT_ENCODER_ID } from './hashing-text-encoder.ts';
export { toNCHW, type RawPixels } from './pixels.ts';
export { decodeImage, imageToTensor, describeImage, type ImageInput } from './image-node.ts';
export { validateCard, bucketValues } from './card-validate.ts';
export { readModelFiles, MODEL_FILE, CARD_FILE } from './model-files.ts';
export { CARD_FORMAT, type ModelCard, type Preprocessing, type OutputSpec, type TensorSpec, type ExplainSpec } from './card.ts';
export { auxDim, attributeDim, REAL_AD_SCHEMA, AVA_SCHEMA, SCHEMA_PRESETS, type AuxSchema, type AuxAttribute } from './schema.ts';
export type { TextEncoder } from './text.ts';
// Attribute extraction for apps that score raw ads: dominant colour and an ONNX sentence-embedding
// TextEncoder (a BERT-like model and vocab.txt from a local directory). OCR has its own entry,
// ocr.ts (`@m2fn/runtime/ocr`), since tesseract.js is an optional dependency.
export { dominantColour, dominantColourOfPixels, REFERENCE_RGB, type DominantColour, type DominantColourName } from './extract/dominant-colour.ts';
export { OnnxSentenceEncoder } from './extract/sentence-encoder.ts';
