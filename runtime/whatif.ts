// What-if sweeps: one creative's predicted score across every level of chosen attributes, the
// other attributes held as given — what changes if the ad runs at another hour, for another age.
// Works with any scorer (Node or browser): only `card` and `scoreMany` are used.
import type { Attributes } from './attributes.ts';
import type { ModelCard } from './card.ts';
import { M2fnInputError } from './errors.ts';
import { scoreValue, type Score } from './results.ts';

export interface WhatIfScorer<I> {
  readonly card: ModelCard;
  scoreMany(items: { image: I; attributes?: Attributes }[], opts?: { batchSize?: number }): Promise<Score[]>;
}

export interface WhatIfSweep {
  attribute: string;
  /** The level given in `attributes` (as a string), or null when it was left out. */
  given: string | null;
  levels: { level: string; score: number }[];
}

export async function whatIf<I>(scorer: WhatIfScorer<I>, image: I, attributes: Attributes, vary: string[]): Promise<WhatIfSweep[]> {
  const schema = scorer.card.auxSchema;
  if (!schema) throw new M2fnInputError(`model "${scorer.card.model}" takes no attributes: there is nothing to vary`);
  if (!vary.length) throw new M2fnInputError('whatIf: name at least one attribute to vary');
  const sweeps: WhatIfSweep[] = [];
  for (const name of vary) {
    const a = schema.attributes.find((x) => x.name === name);
    if (!a) throw new M2fnInputError(`whatIf: "${name}" is not an attribute of schema "${schema.name}" (${schema.attributes.map((x) => x.name).join(', ')})`);
    if (a.kind !== 'categorical') throw new M2fnInputError(`whatIf: "${name}" is ${a.kind}; only categorical attributes have levels to sweep`);
    const scores = await scorer.scoreMany(a.levels.map((level) => ({ image, attributes: { ...attributes, [name]: level } })), { batchSize: 32 });
    sweeps.push({ attribute: name, given: name in attributes ? String(attributes[name]) : null, levels: a.levels.map((level, i) => ({ level, score: scoreValue(scores[i]) })) });
  }
  return sweeps;
}
