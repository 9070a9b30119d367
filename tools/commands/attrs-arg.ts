// The --attrs argument of explain, whatif and rank: a JSON object, @FILE holding one, or
// key=value pairs separated by commas (numbers where the value is numeric).
import { readFileSync } from 'node:fs';
import type { Attributes } from '../../runtime/attributes.ts';

export function parseAttrs(spec: string): Attributes {
  const text = spec.startsWith('@') ? readFileSync(spec.slice(1), 'utf8') : spec;
  if (text.trim().startsWith('{')) {
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch (e) {
      throw new Error(`--attrs: not valid JSON (${(e as Error).message})`);
    }
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('--attrs: the JSON must be an object of attribute values');
    return v as Attributes;
  }
  const out: Attributes = {};
  for (const part of text.split(',').filter((p) => p.trim())) {
    const eq = part.indexOf('=');
    if (eq < 1) throw new Error(`--attrs: "${part}" is not key=value`);
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    out[key] = value !== '' && Number.isFinite(Number(value)) ? Number(value) : value;
  }
  return out;
}
