// Writes grafana/dashboards/<name>.json from the TypeScript sources; the JSON is checked in and
// a test regenerates it into a temp dir and fails on any difference.
// Usage: tsx grafana/src/generate.ts [outDir]
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { allDashboards } from './dashboards.js';

export function generate(outDir: string): string[] {
  mkdirSync(outDir, { recursive: true });
  return Object.entries(allDashboards()).map(([name, dashboard]) => {
    const file = join(outDir, `${name}.json`);
    writeFileSync(file, JSON.stringify(dashboard, null, 2) + '\n');
    return file;
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..', 'dashboards');
  for (const file of generate(out)) console.log(file);
}
