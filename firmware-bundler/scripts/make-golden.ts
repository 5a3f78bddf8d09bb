// Regenerates test/fixtures/bundles/ deterministically: `npx tsx firmware-bundler/scripts/make-golden.ts`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildGoldenFixtures } from './golden.ts';

const outDir = join(dirname(fileURLToPath(import.meta.url)), '../../test/fixtures/bundles');
mkdirSync(outDir, { recursive: true });
for (const [name, bytes] of Object.entries(await buildGoldenFixtures())) {
  writeFileSync(join(outDir, name), bytes);
  console.log(`wrote ${join(outDir, name)} (${bytes.length} bytes)`);
}
