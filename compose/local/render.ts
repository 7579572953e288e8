// Config rendering: the one real file under prometheus/ or alertmanager/ with only its
// addresses rewritten for local processes. Rendered trees live in var/, never in git.
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { localizeAddresses, type PortMap } from './ports.js';

export function renderTree(
  sourceDir: string,
  targetDir: string,
  ports: PortMap,
  skip: (rel: string) => boolean = () => false,
): void {
  rmSync(targetDir, { recursive: true, force: true });
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      const rel = relative(sourceDir, path);
      if (skip(rel)) continue;
      if (statSync(path).isDirectory()) {
        walk(path);
        continue;
      }
      const out = join(targetDir, rel);
      mkdirSync(join(out, '..'), { recursive: true });
      writeFileSync(out, localizeAddresses(readFileSync(path, 'utf8'), ports));
    }
  };
  walk(sourceDir);
}
