/**
 * versions.yaml is the one pin of every part. This holds every other place that names a version to
 * it: the Compose files' and the Kubernetes base's image tags (and the rendered
 * k8s/monitoring-deployment.yaml), the Collector's ocb manifest, and the local runner's sources
 * (Go module versions, the Postgres package, Kafka's jars, a Debian package's version).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { KAFKA_SCALA } from '../../compose/local/tools.js';
import { PART_NAMES, pins, type PartName } from '../../compose/local/versions.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const all = pins();
const OWN_IMAGE = /^(\$\{PYNOMALY_IMAGE:-)?pynomaly(:|$)/;

const deploymentFiles = [
  ...readdirSync(join(root, 'compose'))
    .filter((f) => /^docker-compose.*\.ya?ml$/.test(f))
    .map((f) => join(root, 'compose', f)),
  ...readdirSync(join(root, 'k8s', 'base'))
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => join(root, 'k8s', 'base', f)),
  join(root, 'k8s', 'monitoring-deployment.yaml'),
];

interface ImageRef {
  where: string;
  image: string;
}

function imageRefs(file: string): ImageRef[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .flatMap((line, i) => {
      const m = /^\s*(?:-\s+)?image:\s*['"]?([^'"\s#]+)/.exec(line);
      return m ? [{ where: `${relative(root, file)}:${i + 1}`, image: m[1]! }] : [];
    })
    .filter((r) => !OWN_IMAGE.test(r.image));
}

const repo = (image: string) => image.replace(/:[^:/]+$/, '');
const tag = (image: string) => /:([^:/]+)$/.exec(image)?.[1] ?? '';

describe('versions.yaml', () => {
  it('pins each part once, with an image whose tag is that version', () => {
    for (const name of PART_NAMES) {
      const { version, image } = all[name];
      expect(tag(image).replace(/^v/, ''), `${name}: image ${image} vs version ${version}`).toMatch(
        new RegExp(`^${version.replace(/\./g, '\\.')}($|-)`),
      );
    }
    const repos = PART_NAMES.map((n) => repo(all[n].image));
    expect(new Set(repos).size).toBe(repos.length);
  });

  it('every image in compose/ and k8s/ is the pinned one', () => {
    const byRepo = new Map(PART_NAMES.map((n) => [repo(all[n].image), n] as const));
    const wrong: string[] = [];
    for (const ref of deploymentFiles.flatMap(imageRefs)) {
      const name = byRepo.get(repo(ref.image));
      if (!name) wrong.push(`${ref.where}: ${ref.image} is not pinned in versions.yaml`);
      else if (ref.image !== all[name].image)
        wrong.push(`${ref.where}: ${ref.image}, but versions.yaml pins ${name} at ${all[name].image}`);
    }
    expect(wrong).toEqual([]);
  });

  it('every pinned image is used by the Compose stack', () => {
    const used = new Set(
      deploymentFiles
        .filter((f) => f.includes(`${join('compose', '')}`))
        .flatMap((f) => imageRefs(f).map((r) => r.image)),
    );
    expect(PART_NAMES.filter((n) => !used.has(all[n].image))).toEqual([]);
  });

  it('the local sources build exactly the pinned versions', () => {
    const [major, minor, patch] = all.prometheus.version.split('.').map(Number) as [number, number, number];
    // Prometheus 3.m.p is tagged v0.3mm.p on its Go module.
    expect(major).toBe(3);
    expect(all.prometheus.local?.moduleVersion).toBe(`v0.${300 + minor}.${patch}`);
    // Jaeger 2.m.p is tagged v1.(m+63).p on its Go module (2.13.0 = v1.76.0, per its CHANGELOG).
    const [jMajor, jMinor, jPatch] = all.jaeger.version.split('.').map(Number) as [number, number, number];
    expect(jMajor).toBe(2);
    expect(all.jaeger.local?.moduleVersion).toBe(`v1.${jMinor + 63}.${jPatch}`);
    for (const name of ['alertmanager', 'node-exporter', 'mailpit', 'victoria-logs'] as PartName[])
      expect(all[name].local?.moduleVersion, name).toBe(`v${all[name].version}`);
    expect(all.postgres.local?.packageVersion).toMatch(new RegExp(`^${all.postgres.version.replace('.', '\\.')}\\.`));
    expect(all.kafka.local?.packageVersion).toBe(all.kafka.version);
    expect(all.kafka.local?.maven).toBe(`org.apache.kafka:kafka_${KAFKA_SCALA}`);
    expect(all.zipkin.local?.maven).toBe('io.zipkin:zipkin-server');
    expect(all.zipkin.local?.packageVersion).toBe(all.zipkin.version);
    for (const name of PART_NAMES) {
      const local = all[name].local;
      if (local?.debian) expect(local.debianVersion, name).toBe(all[name].version);
    }
  });

  it("the Collector's ocb manifest builds the pinned Collector release", () => {
    const manifest = readFileSync(join(root, all['otel-collector'].local!.ocb!), 'utf8');
    const versions = new Set([...manifest.matchAll(/gomod: \S+ v(\d+\.\d+\.\d+)/g)].map((m) => m[1]));
    expect([...versions]).toEqual([all['otel-collector'].version]);
  });
});
