// Records the canonical digests inference-digest.test.ts compares against. Run it only when a
// change to what a model computes is intended:  npx tsx test/graph/record-digests.ts
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../../runtime/atomic-write.ts';
import { canonicalDigest, DIGESTS, pinnedGraphs } from './digest.ts';

// Only when run as a script: a test pattern such as `npm test -- graph` also imports this file.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const digests: Record<string, string> = {};
  for (const g of pinnedGraphs()) digests[g.key] = canonicalDigest(g.bytes, g.params);
  const path = fileURLToPath(DIGESTS);
  writeFileAtomic(path, JSON.stringify(digests, null, 2) + '\n');
  console.log(`wrote ${Object.keys(digests).length} digests to ${path}`);
}
