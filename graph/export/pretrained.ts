// Pretrained backbone import: copy the 3×3 conv weights of an existing ONNX model (such as the
// ONNX model zoo's VGG19) into a built model, conv by conv in graph order.
import { FieldError } from '../../runtime/errors.ts';
import { fmt } from '../core/shape.ts';
import { readOnnx } from '../core/serialize.ts';
import type { BuiltModel } from '../models/m2fn.ts';
import { backboneConvs } from '../models/modules.ts';

export interface ImportReport {
  source: string;
  mapped: { from: string; to: string; shape: number[] }[];
  /** 3×3 convs of the source beyond our backbone's depth (e.g. importing VGG19 into VGG16). */
  unusedSourceConvs: number;
}

export function importPretrained(m: BuiltModel, path: string): ImportReport {
  const src = readOnnx(path);
  const convs = src.nodes
    .filter((n) => n.op === 'Conv')
    .map((n) => ({ node: n, w: src.initializers.get(n.inputs[1]), b: n.inputs[2] ? src.initializers.get(n.inputs[2]) : undefined }))
    .filter((c) => c.w && c.w.dims.length === 4 && c.w.dims[2] === 3 && c.w.dims[3] === 3);
  const ours = backboneConvs(m.config, m.params);
  if (convs.length < ours.length) {
    throw new FieldError('pretrained', `${path}: has ${convs.length} 3×3 convolutions with constant weights; the ${m.config.backbone} backbone needs ${ours.length}`);
  }
  const mapped: ImportReport['mapped'] = [];
  ours.forEach(({ weight: w, bias: b }, k) => {
    const s = convs[k];
    const want = w.shape as number[];
    if (s.w!.dtype !== 'float32') throw new FieldError('pretrained', `${path}: conv ${s.node.name || k} weight ${s.w!.name} is ${s.w!.dtype}, not float32`);
    if (fmt(s.w!.dims) !== fmt(want)) {
      throw new FieldError(
        'pretrained',
        `${path}: conv #${k + 1} (${s.node.name || s.w!.name}) has weight ${fmt(s.w!.dims)} but ${w.name} needs ${fmt(want)}` +
          ` — the model's backbone (${m.config.backbone}) and width (${m.config.width}) must be the pretrained model's`,
      );
    }
    (w.data as Float32Array).set(s.w!.data as Float32Array);
    if (s.b) {
      if (s.b.dims[0] !== want[0]) throw new FieldError('pretrained', `${path}: conv #${k + 1} bias ${fmt(s.b.dims)} but ${b.name} needs [${want[0]}]`);
      (b.data as Float32Array).set(s.b.data as Float32Array);
    } else {
      (b.data as Float32Array).fill(0);
    }
    mapped.push({ from: s.w!.name, to: w.name!, shape: want });
  });
  return { source: path, mapped, unusedSourceConvs: convs.length - ours.length };
}
