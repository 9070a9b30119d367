// Why a model stopped looking at its image: runs the inference graph with the image path's
// intermediate values as outputs (each VGG stage, the attention weights, the high-level fusion's
// image branch) on one batch, and names what it finds — units that never activate, a saturated
// tanh branch whose value is the same for every image, one-hot attention, exploding features.
// Called by ort-train when the image sensitivity falls to ~0.
import type * as ort from 'onnxruntime-node';
import type { ModelConfig } from '../../graph/models/config.ts';
import { buildModel } from '../../graph/models/m2fn.ts';
import { serialize } from '../../graph/core/serialize.ts';
import { openSession } from '../../runtime/execution.ts';

export interface StageReport {
  stage: number;
  channels: number;
  /** Channels not positive for any image or position of the batch. */
  dead: number;
  maxAbs: number;
}

export interface ImagePathReport {
  stages: StageReport[];
  /** High-level fusion's image branch: units at |tanh| > 0.999 for every image, of `units`. */
  fuse?: { units: number; saturated: number; spreadAcrossImages: number };
  /** Mean of the largest attention weight per image (1: all weight on one position). */
  attentionPeak?: number;
  /** Plain-language findings, most likely cause first; empty when nothing stands out. */
  findings: string[];
}

const SATURATED = 0.999;

export async function diagnoseImagePath(cfg: ModelConfig, weights: Map<string, { data: Float32Array }>, feeds: Record<string, ort.Tensor>, n: number): Promise<ImagePathReport> {
  const model = buildModel(cfg);
  for (const [k, v] of model.params.values) {
    const w = weights.get(k);
    if (!w) throw new Error(`image-path diagnosis: no value for parameter ${k}`);
    (v.data as Float32Array).set(w.data);
  }
  const outputs = model.stages.map((s, i) => s.named(`stage${i + 1}`));
  if (model.fuseImage) outputs.push(model.fuseImage.named('fuse_image'));
  if (model.attention) outputs.push(model.attention.named('attention'));
  const inputs = model.aux ? [model.image, model.aux] : [model.image];
  const { session } = await openSession(serialize({ name: 'image_path', inputs, outputs }), 'image-path diagnosis', { ep: 'cpu', fallback: false });
  try {
    const run = await session.run(Object.fromEntries(inputs.map((v) => [v.name!, feeds[v.name!]])));
    const report: ImagePathReport = { stages: [], findings: [] };
    model.stages.forEach((s, b) => {
      const d = run[`stage${b + 1}`].data as Float32Array;
      const C = s.shape[1] as number;
      const hw = d.length / (n * C);
      let dead = 0;
      let maxAbs = 0;
      for (let c = 0; c < C; c++) {
        let alive = false;
        for (let i = 0; i < n; i++) {
          for (let p = 0; p < hw; p++) {
            const x = d[(i * C + c) * hw + p];
            if (x > 0) alive = true;
            maxAbs = Math.max(maxAbs, Math.abs(x));
          }
        }
        if (!alive) dead++;
      }
      report.stages.push({ stage: b + 1, channels: C, dead, maxAbs });
    });
    if (model.fuseImage) {
      const d = run.fuse_image.data as Float32Array;
      const units = d.length / n;
      let saturated = 0;
      let spread = 0;
      for (let u = 0; u < units; u++) {
        let all = true;
        let m = 0;
        for (let i = 0; i < n; i++) {
          if (Math.abs(d[i * units + u]) <= SATURATED) all = false;
          m += d[i * units + u] / n;
        }
        let v = 0;
        for (let i = 0; i < n; i++) v += (d[i * units + u] - m) ** 2 / n;
        spread += Math.sqrt(v) / units;
        if (all) saturated++;
      }
      report.fuse = { units, saturated, spreadAcrossImages: spread };
    }
    if (model.attention) {
      const d = run.attention.data as Float32Array;
      const k = d.length / n;
      let peak = 0;
      for (let i = 0; i < n; i++) peak += Math.max(...d.subarray(i * k, (i + 1) * k)) / n;
      report.attentionPeak = peak;
    }
    report.findings = findings(report);
    return report;
  } finally {
    await session.release();
  }
}

function findings(r: ImagePathReport): string[] {
  const out: string[] = [];
  const last = r.stages[r.stages.length - 1];
  if (r.fuse && r.fuse.saturated >= r.fuse.units / 2) {
    out.push(`the high-level fusion's image branch is saturated: ${r.fuse.saturated}/${r.fuse.units} tanh units sit at ±1 for every image (their spread across images ${r.fuse.spreadAcrossImages.toExponential(1)}), so no gradient reaches the backbone; the last VGG stage reaches |x| = ${last.maxAbs.toExponential(1)} — unnormalised features grew during training (try \`backboneNorm\` batch or a lower \`lr\`)`);
  }
  const dead = r.stages.filter((s) => s.dead === s.channels);
  if (dead.length) out.push(`VGG stage ${dead.map((s) => s.stage).join(', ')}: every unit is dead (never positive on this batch), the image cannot reach the head`);
  else {
    const many = r.stages.filter((s) => s.dead >= s.channels / 2);
    if (many.length) out.push(`dead units: ${many.map((s) => `stage ${s.stage} ${s.dead}/${s.channels}`).join(', ')} never activate on this batch`);
  }
  if (r.attentionPeak !== undefined && r.attentionPeak > 0.99) out.push(`the spatial attention is one-hot (mean peak weight ${r.attentionPeak.toFixed(3)}): its softmax saturated`);
  if (!out.length && last.maxAbs > 1e3) out.push(`the last VGG stage reaches |x| = ${last.maxAbs.toExponential(1)}: unnormalised features grew during training`);
  return out;
}
