// The pinned version of every part, read from versions.yaml at the project root. The installers
// build or fetch exactly these; test/configs/versions.test.ts holds Compose and Kubernetes to them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { projectRoot } from './paths.js';

export interface LocalSource {
  /** Go module built at `moduleVersion` (a throwaway module requires it as a tool). */
  go?: string;
  moduleVersion?: string;
  /** npm package carrying the upstream binaries, at `packageVersion`. */
  npm?: string;
  /** Maven coordinates (group:artifact), at `packageVersion`. */
  maven?: string;
  packageVersion?: string;
  /** Debian package, used only when Debian ships exactly `debianVersion`. */
  debian?: string;
  debianVersion?: string;
  /** OpenTelemetry Collector Builder manifest (relative to the project root). */
  ocb?: string;
}

export interface Pin {
  version: string;
  image: string;
  local?: LocalSource;
}

export const PART_NAMES = [
  'prometheus',
  'alertmanager',
  'node-exporter',
  'postgres-exporter',
  'postgres',
  'kafka',
  'jaeger',
  'victoria-logs',
  'zipkin',
  'otel-collector',
  'mailpit',
  'grafana',
  'busybox',
] as const;
export type PartName = (typeof PART_NAMES)[number];

export const VERSIONS_FILE = join(projectRoot, 'versions.yaml');

function load(file: string): Record<PartName, Pin> {
  const raw = parse(readFileSync(file, 'utf8')) as Record<string, Pin>;
  for (const name of PART_NAMES) {
    const pin = raw[name];
    if (!pin || typeof pin.version !== 'string' || typeof pin.image !== 'string')
      throw new Error(`${file}: "${name}" needs a string version and image`);
  }
  const unknown = Object.keys(raw).filter((k) => !(PART_NAMES as readonly string[]).includes(k));
  if (unknown.length) throw new Error(`${file}: unknown parts ${unknown.join(', ')}; known: ${PART_NAMES.join(', ')}`);
  return raw as Record<PartName, Pin>;
}

let cached: Record<PartName, Pin> | undefined;

/** Every pin (parsed once per process). */
export function pins(file = VERSIONS_FILE): Record<PartName, Pin> {
  if (file !== VERSIONS_FILE) return load(file);
  return (cached ??= load(file));
}

export function pin(name: PartName): Pin {
  return pins()[name];
}

/** The local source's field, or a clear error naming versions.yaml. */
export function localField(name: PartName, field: keyof LocalSource): string {
  const value = pin(name).local?.[field];
  if (!value) throw new Error(`versions.yaml: ${name}.local.${field} is not set`);
  return value;
}
