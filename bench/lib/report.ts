// The result files: one figure per measured thing, with its baseline and a ratio oriented so
// that higher is always better for us, plus free-form details (per size, per run).
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';

export interface Figure {
  name: string;
  value: number | null;
  unit: string;
  baseline: number | null;
  baselineLabel: string;
  ratio: number | null;
  goal: string;
  met: boolean | null;
  note?: string;
}

export interface Section {
  title: string;
  /** Rows of a small table shown under the summary (per size, per run…). */
  header: string[];
  rows: (string | number)[][];
  notes?: string[];
}

export interface Report {
  date: string;
  mode: 'quick' | 'full';
  durationS: number;
  machine: { cores: number; cpuModel: string; memoryGiB: number; node: string; platform: string };
  versions: Record<string, string>;
  figures: Figure[];
  sections: Section[];
  profiles: {
    figure: string;
    file: string;
    topFrames: { frame: string; selfPct: number }[];
    byModule: { frame: string; selfPct: number }[];
    /** Only the last tailS seconds of the profile were counted (steady state, not start-up). */
    tailS?: number;
  }[];
}

export function machine(): Report['machine'] {
  const c = cpus();
  return {
    cores: c.length,
    cpuModel: c[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

const fmt = (v: number | null, digits = 3): string => {
  if (v === null || !Number.isFinite(v)) return '–';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1000) return v.toFixed(0);
  return Number(v.toPrecision(digits)).toString();
};

export function toMarkdown(r: Report): string {
  const out: string[] = [];
  out.push(`# Pynomaly benchmarks (${r.mode})`, '');
  out.push(
    `Date: ${r.date} · run took ${Math.round(r.durationS)} s · machine: ${r.machine.cores} cores (${r.machine.cpuModel}), ` +
      `${r.machine.memoryGiB} GiB, Node ${r.machine.node}, ${r.machine.platform}`,
  );
  const v = Object.entries(r.versions)
    .map(([k, x]) => `${k} ${x}`)
    .join(', ');
  if (v) out.push('', `Baselines: ${v}.`);
  out.push(
    '',
    'Ratios are oriented so that higher is better for us. Timings are minima over repeats, measured side by side in one run on a shared machine: read them as ratios, not absolutes.',
    '',
  );
  out.push('| name | value | unit | baseline | ratio | goal | met |', '|---|---|---|---|---|---|---|');
  for (const f of r.figures) {
    const met = f.met === null ? '–' : f.met ? 'yes' : '**no**';
    out.push(
      `| \`${f.name}\` | ${fmt(f.value)} | ${f.unit} | ${fmt(f.baseline)} ${f.baselineLabel} | ${fmt(f.ratio)} | ${f.goal} | ${met} |`,
    );
  }
  const notes = r.figures.filter((f) => f.note);
  if (notes.length) {
    out.push('', '## Notes', '');
    for (const f of notes) out.push(`- \`${f.name}\`: ${f.note}`);
  }
  for (const s of r.sections) {
    out.push('', `## ${s.title}`, '');
    out.push(`| ${s.header.join(' | ')} |`, `|${s.header.map(() => '---').join('|')}|`);
    for (const row of s.rows) out.push(`| ${row.map((c) => (typeof c === 'number' ? fmt(c, 4) : c)).join(' | ')} |`);
    for (const n of s.notes ?? []) out.push('', n);
  }
  if (r.profiles.length) {
    out.push('', '## CPU profiles of missed goals', '');
    for (const p of r.profiles) {
      out.push(
        `### \`${p.figure}\` (\`${p.file}\`${p.tailS ? `, last ${p.tailS} s` : ''})`,
        '',
        '| self % | frame |',
        '|---|---|',
      );
      for (const t of p.topFrames) out.push(`| ${t.selfPct.toFixed(1)} | \`${t.frame}\` |`);
      out.push('', '| self % | where |', '|---|---|');
      for (const t of p.byModule) out.push(`| ${t.selfPct.toFixed(1)} | ${t.frame} |`);
      out.push('');
    }
  }
  return out.join('\n') + '\n';
}

export function writeReport(dir: string, r: Report): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'latest.json'), JSON.stringify(r, null, 2) + '\n');
  writeFileSync(join(dir, 'latest.md'), toMarkdown(r));
}
