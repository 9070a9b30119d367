// The OCR entry of the runtime package (`@m2fn/runtime/ocr`): text in the image with tesseract.js
// and its offline English model. A separate entry because tesseract.js and its data (~60 MB) are
// optional peer dependencies: apps that fill `ocr` themselves, or whose model has no `ocr`
// attribute, install only what scoring needs.
export { createOcr, characterErrorRate, type OcrEngine } from './extract/ocr.ts';
