/**
 * Who may reach what in the production overlay, checked offline on the built manifests: the
 * control planes are closed (no Prometheus lifecycle/admin API, no Collector zpages/pprof), the
 * NetworkPolicies admit exactly the flows in the table below (any other flow, or a missing one,
 * fails), every scrape sends the token the services require, and the services create their Kafka
 * topics with the production replication settings.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { loadConfig, type ServiceName } from '../../services/shared/src/config.js';
import { topicNames } from '../../services/shared/src/events/index.js';
import { ensureServiceTopics, type ServiceCore } from '../../services/shared/src/lifecycle.js';
import { ensureDeploymentTools } from '../../scripts/tools/install.js';
import type { K8sObject } from './tools/k8s-schema.js';
import { kustomizeBuild, repoRoot } from '../../scripts/generators/k8s-manifest.js';

/** to component : port ← from (component names; `*` = any source, e.g. through an ingress controller). */
const FLOWS: readonly string[] = [
  'api:8000 <- *',
  'otel-collector:4317 <- api',
  'otel-collector:4317 <- training-worker',
  'otel-collector:4317 <- drift-worker',
  'otel-collector:4318 <- api',
  'otel-collector:4318 <- training-worker',
  'otel-collector:4318 <- drift-worker',
  'otel-collector:8888 <- prometheus',
  'otel-collector:8889 <- prometheus',
  'otel-collector:13133 <- prometheus',
  'training-worker:9102 <- prometheus',
  'drift-worker:9103 <- prometheus',
  'postgres-exporter:9187 <- prometheus',
  'node-exporter:9100 <- prometheus',
  'trace-backend:4317 <- otel-collector',
  'trace-backend:16686 <- grafana',
  'zipkin:9411 <- otel-collector',
  'log-store:9428 <- otel-collector',
  'log-store:9428 <- grafana',
  'prometheus:9090 <- grafana',
  'prometheus:9090 <- prometheus-operator-access',
  'alertmanager:9093 <- prometheus',
  'alertmanager:9093 <- grafana',
  'mailpit:1025 <- alertmanager',
  'grafana:3000 <- *',
];

const APPLICATION_PODS = ['api', 'training-worker', 'drift-worker'];

interface Selector {
  matchExpressions?: { key: string; operator: string; values: string[] }[];
  matchLabels?: Record<string, string>;
}
interface Policy extends K8sObject {
  spec: {
    podSelector: Selector;
    policyTypes: string[];
    ingress?: { ports?: { port: number; protocol?: string }[]; from?: Record<string, unknown>[] }[];
  };
}
interface Container {
  name: string;
  args?: string[];
  env?: { name: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  envFrom?: { configMapRef?: { name: string } }[];
}
type Workload = K8sObject & {
  spec: {
    template: {
      spec: {
        containers: Container[];
        volumes?: { projected?: { sources: { secret?: { items?: { key: string; path: string }[] } }[] } }[];
      };
    };
  };
};

/** The app.kubernetes.io/name values a selector picks (only the `In` form is used, and allowed). */
function names(sel: Selector, where: string): string[] {
  expect(sel.matchLabels, `${where}: use matchExpressions on app.kubernetes.io/name`).toBeUndefined();
  const exprs = sel.matchExpressions ?? [];
  expect(exprs.length, where).toBe(1);
  expect(exprs[0]!.key, where).toBe('app.kubernetes.io/name');
  expect(exprs[0]!.operator, where).toBe('In');
  return exprs[0]!.values;
}

let prod: K8sObject[];
beforeAll(async () => {
  await ensureDeploymentTools();
  prod = parseAllDocuments(await kustomizeBuild('production'))
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
});
const workload = (name: string) =>
  prod.find((o) => ['Deployment', 'StatefulSet', 'DaemonSet'].includes(o.kind) && o.metadata.name === name) as Workload;

describe('production control planes', () => {
  it('runs Prometheus without its lifecycle or admin API', () => {
    const args = workload('prometheus').spec.template.spec.containers.flatMap((c) => c.args ?? []);
    expect(args).toContain('--storage.tsdb.retention.time=30d');
    expect(args.filter((a) => /--web\.enable-(lifecycle|admin-api)/.test(a))).toEqual([]);
  });

  it('builds and configures the Collector without zpages or pprof', () => {
    const config = parse(readFileSync(join(repoRoot, 'collector', 'config.yaml'), 'utf8')) as {
      extensions?: Record<string, unknown>;
      service: { extensions?: string[] };
    };
    const all = [...Object.keys(config.extensions ?? {}), ...(config.service.extensions ?? [])];
    expect(all.filter((e) => /zpages|pprof/.test(e))).toEqual([]);
  });
});

describe('production NetworkPolicies', () => {
  it('deny ingress by default', () => {
    const policies = prod.filter((o) => o.kind === 'NetworkPolicy') as Policy[];
    const deny = policies.filter((p) => Object.keys(p.spec.podSelector).length === 0);
    expect(deny.map((p) => [p.spec.policyTypes, p.spec.ingress ?? []])).toEqual([[['Ingress'], []]]);
  });

  it('admit exactly the flows of the architecture', () => {
    const admitted: string[] = [];
    for (const p of prod.filter((o) => o.kind === 'NetworkPolicy') as Policy[]) {
      if (Object.keys(p.spec.podSelector).length === 0) continue;
      expect(p.spec.policyTypes, p.metadata.name).toEqual(['Ingress']);
      const targets = names(p.spec.podSelector, p.metadata.name);
      for (const rule of p.spec.ingress ?? []) {
        expect(rule.ports?.length, `${p.metadata.name}: a rule without ports admits every port`).toBeGreaterThan(0);
        const sources =
          rule.from === undefined
            ? ['*']
            : rule.from.flatMap((f) => {
                // Only pod selectors in this namespace: no ipBlock, no namespaceSelector.
                expect(Object.keys(f), p.metadata.name).toEqual(['podSelector']);
                return names(f.podSelector as Selector, p.metadata.name);
              });
        for (const t of targets)
          for (const port of rule.ports!) for (const from of sources) admitted.push(`${t}:${port.port} <- ${from}`);
      }
    }
    expect(admitted.sort()).toEqual([...FLOWS].sort());
  });

  it('keep Alertmanager, the Collector telemetry and Jaeger away from the application pods', () => {
    const closed = [
      'alertmanager:9093',
      'otel-collector:8888',
      'otel-collector:13133',
      'trace-backend:16686',
      'prometheus:9090',
    ];
    for (const flow of FLOWS) {
      const [to, from] = flow.split(' <- ') as [string, string];
      if (closed.includes(to)) expect(APPLICATION_PODS.concat('*'), flow).not.toContain(from);
    }
  });

  it('say why each policy exists (a comment above every document)', () => {
    const chunks = readFileSync(join(repoRoot, 'k8s', 'base', 'network-policies.yaml'), 'utf8').split(/^---$/m);
    expect(chunks.length).toBeGreaterThan(10);
    for (const chunk of chunks) {
      const name = /name: (\S+)/.exec(chunk)?.[1];
      const comment = chunk
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('#'))
        .join(' ');
      expect(chunk.trim().startsWith('#'), `${name} starts with a comment`).toBe(true);
      expect(comment.length, name).toBeGreaterThan(20);
    }
  });
});

describe('production scrape token', () => {
  it('is required by the three services and sent by Prometheus from where prometheus.yml reads it', () => {
    for (const svc of APPLICATION_PODS) {
      const env = workload(svc).spec.template.spec.containers[0]!.env ?? [];
      expect(env.find((e) => e.name === 'PYNOMALY_SCRAPE_TOKEN')?.valueFrom?.secretKeyRef, svc).toEqual({
        name: 'pynomaly-secrets',
        key: 'PYNOMALY_SCRAPE_TOKEN',
      });
    }
    const projected = (workload('prometheus').spec.template.spec.volumes ?? []).flatMap((v) =>
      (v.projected?.sources ?? []).flatMap((s) => s.secret?.items ?? []),
    );
    expect(projected).toContainEqual({ key: 'PYNOMALY_SCRAPE_TOKEN', path: 'secrets/scrape-token' });
    const prom = parse(readFileSync(join(repoRoot, 'prometheus', 'prometheus.yml'), 'utf8')) as {
      scrape_configs: { job_name: string; authorization?: { credentials_file?: string } }[];
    };
    for (const job of ['api', 'api-views', 'training-worker', 'drift-worker'])
      expect(prom.scrape_configs.find((j) => j.job_name === job)?.authorization?.credentials_file, job).toBe(
        'secrets/scrape-token',
      );
  });
});

describe('production Kafka topics', () => {
  it.each(['api', 'training-worker', 'drift-worker'] as ServiceName[])(
    '%s creates every topic with replication factor 3 and min.insync.replicas 2',
    async (service) => {
      const cm = prod.find(
        (o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('pynomaly-config'),
      ) as K8sObject & {
        data: Record<string, string>;
      };
      // The overlay's settings plus stand-ins for the Secret's values.
      const config = loadConfig(service, {
        ...cm.data,
        DATABASE_URL: 'postgres://u:p@postgres:5432/pynomaly',
        PYNOMALY_API_KEYS: JSON.stringify([{ name: 'ops', scopes: ['admin'], keys: ['stand-in-key-0123456789'] }]),
        PYNOMALY_SCRAPE_TOKEN: 'stand-in-scrape-token',
      });
      const created: { topic: string; replicationFactor: number; numPartitions: number; configEntries: unknown }[] = [];
      const kafka = {
        admin: () => ({
          connect: async () => {},
          disconnect: async () => {},
          listTopics: async () => [],
          createTopics: async (req: { topics: typeof created }) => created.push(...req.topics),
        }),
      } as unknown as Kafka;
      const topics = topicNames(config.kafka.topicPrefix);
      await ensureServiceTopics({ config, kafka, topics } as unknown as ServiceCore);
      expect(created.map((t) => t.topic).sort()).toEqual(Object.values(topics).sort());
      for (const t of created) {
        expect(t.replicationFactor, t.topic).toBe(3);
        expect(t.configEntries, t.topic).toEqual([{ name: 'min.insync.replicas', value: '2' }]);
        expect(t.numPartitions, t.topic).toBe(6);
      }
    },
  );
});
