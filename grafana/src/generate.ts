// Writes grafana/dashboards/<name>.json from the TypeScript sources; the JSON is checked in and
// `npm run generate -- --check` (run by a test) fails on any difference.
// Usage: tsx grafana/src/generate.ts [outDir]
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { allDashboards } from './dashboards.js';

/** Each dashboard's JSON, keyed by its file name. */
export async function renderDashboards(): Promise<Record<string, string>> {
  const dashboards = await allDashboards();
  return Object.fromEntries(
    Object.entries(dashboards).map(([name, dashboard]) => [`${name}.json`, JSON.stringify(dashboard, null, 2) + '\n']),
  );
}

export async function generate(outDir: string): Promise<string[]> {
  mkdirSync(outDir, { recursive: true });
  return Object.entries(await renderDashboards()).map(([name, text]) => {
    const file = join(outDir, name);
    writeFileSync(file, text);
    return file;
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..', 'dashboards');
  for (const file of await generate(out)) console.log(file);
}
