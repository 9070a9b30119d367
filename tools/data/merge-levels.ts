// Merging sparse attribute levels (paper §6.3.2: levels with fewer than 50,000 impressions are
// merged into the closest level). "Closest": for ordered attributes the neighbouring level
// (cyclic for hour, weekday and month); for unordered ones the level whose CTR is nearest.
// The smallest level is merged first and totals are recomputed after every merge.
import type { LevelCount } from './stats.ts';

export type LevelOrder = 'linear' | 'cyclic' | 'none';

/** How "closest" is measured per attribute. */
export const LEVEL_ORDER: Record<string, LevelOrder> = {
  gender: 'none', age: 'linear', month: 'cyclic', weekday: 'cyclic', hour: 'cyclic', position: 'linear',
  cate2: 'none', cate3: 'none', domcol: 'none',
};

export interface MergePlan {
  /** original level → the level it now counts as (only merged levels appear). */
  mapping: Record<string, string>;
  /** Levels left, in the schema's order. */
  kept: string[];
}

/**
 * Plan merges for one attribute. `levels` must be in the schema's order and list every level
 * (zero-impression levels included: they are merged too, so the schema keeps only observed levels).
 */
export function planMerges(levels: LevelCount[], order: LevelOrder, minImpressions: number): MergePlan {
  // Groups of original levels; a group is named after its largest member.
  let groups = levels.map((l, i) => ({ pos: i, members: [l.level], impressions: l.impressions, clicks: l.clicks, name: l.level, biggest: l.impressions }));
  const n = levels.length;
  const ctr = (g: (typeof groups)[number]) => (g.impressions > 0 ? g.clicks / g.impressions : NaN);
  while (groups.length > 1) {
    let small = 0;
    for (let i = 1; i < groups.length; i++) if (groups[i].impressions < groups[small].impressions) small = i;
    if (groups[small].impressions >= minImpressions) break;
    const g = groups[small];
    let target: number;
    if (order === 'none') {
      // Nearest CTR; a level without impressions joins the largest group.
      target = -1;
      let best = Infinity;
      groups.forEach((h, i) => {
        if (i === small) return;
        const d = Number.isNaN(ctr(g)) || Number.isNaN(ctr(h)) ? Infinity : Math.abs(ctr(g) - ctr(h));
        if (d < best || (d === best && target >= 0 && h.impressions > groups[target].impressions)) {
          best = d;
          target = i;
        }
      });
      if (target < 0 || best === Infinity) target = groups.reduce((bi, h, i) => (i !== small && (bi < 0 || h.impressions > groups[bi].impressions) ? i : bi), -1);
    } else {
      // Neighbours in level order (groups stay contiguous); ties go to the smaller neighbour.
      const left = small > 0 ? small - 1 : order === 'cyclic' ? groups.length - 1 : -1;
      const right = small < groups.length - 1 ? small + 1 : order === 'cyclic' ? 0 : -1;
      if (left < 0) target = right;
      else if (right < 0) target = left;
      else target = groups[left].impressions <= groups[right].impressions ? left : right;
    }
    const t = groups[target];
    t.members.push(...g.members);
    t.impressions += g.impressions;
    t.clicks += g.clicks;
    if (g.biggest > t.biggest) {
      t.biggest = g.biggest;
      t.name = g.name;
    }
    groups = groups.filter((_, i) => i !== small);
    void n;
  }
  const mapping: Record<string, string> = {};
  for (const g of groups) for (const m of g.members) if (m !== g.name) mapping[m] = g.name;
  const kept = levels.map((l) => l.level).filter((l) => !(l in mapping));
  return { mapping, kept };
}
