/**
 * k8s/: both overlays build with kustomize; every object validates against the Kubernetes OpenAPI
 * schemas (strict: unknown fields fail); a policy check on every workload (non-root, read-only
 * root filesystem, limits, probes); the wiring (ConfigMaps are the repository's files byte for
 * byte, Prometheus and Alertmanager find every file their configs name, Services select pods,
 * secrets referenced are documented). k8s/monitoring-deployment.yaml is current: generated.test.ts.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { ensureDeploymentTools } from '../../scripts/tools/install.js';
import { KubernetesSchemas, type K8sObject } from './tools/k8s-schema.js';
import { OVERLAYS, kustomizeBuild, repoRoot } from '../../scripts/generators/k8s-manifest.js';

interface Container {
  name: string;
  image: string;
  ports?: { name?: string; containerPort: number }[];
  env?: { name: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  securityContext?: {
    runAsNonRoot?: boolean;
    runAsUser?: number;
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
    capabilities?: { drop?: string[] };
  };
  volumeMounts?: { name: string; mountPath: string }[];
}
interface Probe {
  httpGet?: { port: string | number; path: string };
  tcpSocket?: { port: string | number };
}
interface Volume {
  name: string;
  configMap?: { name: string };
  projected?: {
    sources: {
      configMap?: { name: string; items?: { key: string; path: string }[] };
      secret?: { name: string; items?: { key: string; path: string }[] };
    }[];
  };
}
interface PodSpec {
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; seccompProfile?: { type: string } };
  containers: Container[];
  initContainers?: Container[];
  volumes?: Volume[];
  hostNetwork?: boolean;
  hostPID?: boolean;
}
type Workload = K8sObject & {
  spec: { template: { metadata: { labels: Record<string, string> }; spec: PodSpec }; replicas?: number };
};

const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);
const built: Record<string, K8sObject[]> = {};
let schemas: KubernetesSchemas;

function objects(overlay: string): K8sObject[] {
  const objs = built[overlay];
  if (!objs) throw new Error(`overlay ${overlay} not built`);
  return objs;
}
const workloads = (overlay: string) => objects(overlay).filter((o) => WORKLOAD_KINDS.has(o.kind)) as Workload[];
const find = (overlay: string, kind: string, name: string) =>
  objects(overlay).find((o) => o.kind === kind && (o.metadata.name === name || o.metadata.name.startsWith(`${name}-`)));
const configMap = (overlay: string, name: string) =>
  find(overlay, 'ConfigMap', name) as (K8sObject & { data: Record<string, string> }) | undefined;
const read = (rel: string) => readFileSync(join(repoRoot, rel), 'utf8');

function parseObjects(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}

beforeAll(async () => {
  const tools = await ensureDeploymentTools();
  schemas = new KubernetesSchemas(tools.kubernetesOpenApiDir);
  for (const overlay of OVERLAYS) built[overlay] = parseObjects(await kustomizeBuild(overlay));
});

describe.each(OVERLAYS)('overlay %s', (overlay) => {
  it('builds every part of the stack', () => {
    const names = new Set(workloads(overlay).map((w) => w.metadata.name));
    for (const n of [
      'api',
      'training-worker',
      'drift-worker',
      'otel-collector',
      'trace-backend',
      'zipkin',
      'log-store',
      'prometheus',
      'alertmanager',
      'mailpit',
      'grafana',
      'postgres-exporter',
      'node-exporter',
    ]) {
      expect(names, n).toContain(n);
    }
    // Kafka and Postgres are external (managed or operator-run).
    expect([...names].some((n) => /kafka|^postgres$/.test(n))).toBe(false);
  });

  it('validates every object against the Kubernetes OpenAPI schemas', () => {
    const errors = objects(overlay).flatMap((o) => schemas.errors(o));
    expect(errors).toEqual([]);
  });

  it('puts everything in the pynomaly namespace', () => {
    for (const o of objects(overlay)) {
      if (o.kind === 'Namespace') expect(o.metadata.name).toBe('pynomaly');
      else expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe('pynomaly');
    }
  });

  it('runs every workload non-root, read-only, without privilege escalation, with limits and probes', () => {
    for (const w of workloads(overlay)) {
      const pod = w.spec.template.spec;
      expect(pod.hostNetwork ?? false, w.metadata.name).toBe(false);
      expect(pod.hostPID ?? false, w.metadata.name).toBe(false);
      expect(pod.securityContext?.seccompProfile?.type, w.metadata.name).toBe('RuntimeDefault');
      for (const c of [...pod.containers, ...(pod.initContainers ?? [])]) {
        const where = `${w.kind}/${w.metadata.name}/${c.name}`;
        const nonRoot = c.securityContext?.runAsNonRoot ?? pod.securityContext?.runAsNonRoot;
        const uid = c.securityContext?.runAsUser ?? pod.securityContext?.runAsUser;
        expect(nonRoot, `${where} runAsNonRoot`).toBe(true);
        expect(uid, `${where} runAsUser`).toBeGreaterThan(0);
        expect(c.securityContext?.readOnlyRootFilesystem, `${where} readOnlyRootFilesystem`).toBe(true);
        expect(c.securityContext?.allowPrivilegeEscalation, `${where} allowPrivilegeEscalation`).toBe(false);
        expect(c.securityContext?.capabilities?.drop, `${where} drops capabilities`).toContain('ALL');
        for (const r of ['cpu', 'memory']) {
          expect(c.resources?.requests?.[r], `${where} requests.${r}`).toBeDefined();
          expect(c.resources?.limits?.[r], `${where} limits.${r}`).toBeDefined();
        }
        expect(c.livenessProbe, `${where} livenessProbe`).toBeDefined();
        expect(c.readinessProbe, `${where} readinessProbe`).toBeDefined();
        // Named probe ports must exist on the container.
        const portNames = new Set((c.ports ?? []).map((p) => p.name));
        for (const probe of [c.livenessProbe, c.readinessProbe]) {
          const port = probe?.httpGet?.port ?? probe?.tcpSocket?.port;
          if (typeof port === 'string') expect(portNames, `${where} probe port ${port}`).toContain(port);
        }
        expect(c.image, where).toMatch(/:[\w.-]+$/);
        expect(c.image, where).not.toMatch(/:latest$/);
      }
    }
  });

  it('has a PodDisruptionBudget for the API and workers and an HPA for each worker', () => {
    for (const name of ['api', 'training-worker', 'drift-worker']) {
      const pdb = find(overlay, 'PodDisruptionBudget', name) as
        (K8sObject & { spec: { selector: { matchLabels: Record<string, string> } } }) | undefined;
      expect(pdb, `PDB ${name}`).toBeDefined();
      const podLabels = (find(overlay, 'Deployment', name) as Workload).spec.template.metadata.labels;
      for (const [k, v] of Object.entries(pdb?.spec.selector.matchLabels ?? {})) expect(podLabels[k]).toBe(v);
    }
    for (const name of ['training-worker', 'drift-worker']) {
      const hpa = find(overlay, 'HorizontalPodAutoscaler', name) as
        (K8sObject & { spec: { scaleTargetRef: { kind: string; name: string }; maxReplicas: number } }) | undefined;
      expect(hpa?.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name });
      expect(hpa?.spec.maxReplicas).toBeGreaterThan(1);
    }
  });

  it('denies ingress by default and opens each port only where a policy says so', () => {
    const policies = objects(overlay).filter((o) => o.kind === 'NetworkPolicy') as (K8sObject & {
      spec: { podSelector: object; policyTypes: string[]; ingress?: unknown[] };
    })[];
    const deny = policies.find((p) => Object.keys(p.spec.podSelector).length === 0);
    expect(deny?.spec.policyTypes).toEqual(['Ingress']);
    expect(deny?.spec.ingress ?? []).toEqual([]);
    // Every Service port must be admitted by some policy, or the Service would be unreachable.
    const services = objects(overlay).filter((o) => o.kind === 'Service') as (K8sObject & {
      spec: { selector: Record<string, string>; ports: { port: number }[] };
    })[];
    const text = JSON.stringify(policies);
    for (const s of services) {
      for (const p of s.spec.ports) expect(text, `${s.metadata.name}:${p.port}`).toContain(`"port":${p.port}`);
    }
  });

  it('gives every Service pods to select, on ports the pods expose', () => {
    const services = objects(overlay).filter((o) => o.kind === 'Service') as (K8sObject & {
      spec: { selector: Record<string, string>; ports: { port: number; targetPort: string | number }[] };
    })[];
    for (const s of services) {
      const pods = workloads(overlay).filter((w) =>
        Object.entries(s.spec.selector).every(([k, v]) => w.spec.template.metadata.labels[k] === v),
      );
      expect(pods.length, `Service ${s.metadata.name} selects pods`).toBeGreaterThan(0);
      const ports = pods.flatMap((w) => w.spec.template.spec.containers.flatMap((c) => c.ports ?? []));
      for (const p of s.spec.ports) {
        const match = ports.some((cp) => cp.name === p.targetPort || cp.containerPort === p.targetPort);
        expect(match, `${s.metadata.name} targetPort ${p.targetPort}`).toBe(true);
      }
    }
  });

  it('mounts the repository config files themselves (ConfigMap data equals the files)', () => {
    expect(configMap(overlay, 'otel-collector-config')?.data['config.yaml']).toBe(read('collector/config.yaml'));
    expect(configMap(overlay, 'prometheus-config')?.data['prometheus.yml']).toBe(read('prometheus/prometheus.yml'));
    for (const f of readdirSync(join(repoRoot, 'prometheus', 'rules')).filter((f) => f.endsWith('.yml'))) {
      expect(configMap(overlay, 'prometheus-rules')?.data[f], f).toBe(read(`prometheus/rules/${f}`));
    }
    expect(configMap(overlay, 'alertmanager-config')?.data['alertmanager.yml']).toBe(
      read('alertmanager/alertmanager.yml'),
    );
    for (const f of readdirSync(join(repoRoot, 'alertmanager', 'templates'))) {
      expect(configMap(overlay, 'alertmanager-config')?.data[f], f).toBe(read(`alertmanager/templates/${f}`));
    }
  });

  it("lays out Prometheus's config volume so every rule file and file_sd file it names exists", () => {
    const prom = parse(read('prometheus/prometheus.yml')) as {
      rule_files: string[];
      scrape_configs: { job_name: string; file_sd_configs?: { files: string[] }[] }[];
    };
    const sts = find(overlay, 'StatefulSet', 'prometheus') as Workload;
    const container = sts.spec.template.spec.containers[0];
    const mount = container?.volumeMounts?.find((m) => m.mountPath === '/etc/prometheus');
    const volume = sts.spec.template.spec.volumes?.find((v) => v.name === mount?.name);
    const paths = new Set(
      (volume?.projected?.sources ?? []).flatMap((s) => (s.configMap?.items ?? []).map((i) => i.path)),
    );
    // Every item must name a key that its ConfigMap really has.
    for (const s of volume?.projected?.sources ?? []) {
      const cm =
        s.configMap &&
        (objects(overlay).find((o) => o.metadata.name === s.configMap?.name) as K8sObject & {
          data: Record<string, string>;
        });
      for (const i of s.configMap?.items ?? []) expect(Object.keys(cm?.data ?? {}), i.key).toContain(i.key);
    }
    expect(paths).toContain('prometheus.yml');
    for (const rf of prom.rule_files) expect(paths, rf).toContain(rf);
    const sdFiles = prom.scrape_configs.flatMap((sc) => (sc.file_sd_configs ?? []).flatMap((f) => f.files));
    expect(sdFiles.length).toBeGreaterThan(0);
    for (const f of sdFiles) expect(paths, f).toContain(f);
    expect(container && JSON.stringify(container)).toContain('--storage.tsdb.retention.time=30d');
  });

  it('gives Prometheus a Kubernetes target for every job, at Services that exist', () => {
    const prom = parse(read('prometheus/prometheus.yml')) as {
      scrape_configs: { job_name: string; file_sd_configs?: unknown[] }[];
    };
    const targets = configMap(overlay, 'prometheus-targets')?.data ?? {};
    const services = new Map(
      (
        objects(overlay).filter((o) => o.kind === 'Service') as (K8sObject & { spec: { ports: { port: number }[] } })[]
      ).map((s) => [s.metadata.name, s.spec.ports.map((p) => p.port)]),
    );
    for (const job of prom.scrape_configs.filter((j) => j.file_sd_configs)) {
      const groups = parse(targets[`${job.job_name}.yml`] ?? 'null') as { targets: string[] }[] | null;
      expect(groups, `targets for ${job.job_name}`).not.toBeNull();
      for (const t of (groups ?? []).flatMap((g) => g.targets)) {
        const [host, port] = t.split(':');
        expect(services.get(host ?? ''), `${job.job_name}: ${t}`).toContain(Number(port));
      }
    }
  });

  it('gives Alertmanager its config, templates and the webhook credential where the config reads them', () => {
    const am = parse(read('alertmanager/alertmanager.yml'), { merge: true }) as {
      templates: string[];
      receivers: { webhook_configs?: { http_config?: { authorization?: { credentials_file?: string } } }[] }[];
    };
    const sts = find(overlay, 'StatefulSet', 'alertmanager') as Workload;
    const volume = sts.spec.template.spec.volumes?.find((v) => v.projected);
    const items = (volume?.projected?.sources ?? []).flatMap((s) => [
      ...(s.configMap?.items ?? []).map((i) => i.path),
      ...(s.secret?.items ?? []).map((i) => i.path),
    ]);
    expect(items).toContain('alertmanager.yml');
    for (const glob of am.templates) {
      const dir = glob.split('/')[0] ?? '';
      expect(items.filter((p) => p.startsWith(`${dir}/`)).length, glob).toBe(
        readdirSync(join(repoRoot, 'alertmanager', dir)).length,
      );
    }
    const credentialFiles = am.receivers.flatMap((r) =>
      (r.webhook_configs ?? []).map((w) => w.http_config?.authorization?.credentials_file),
    );
    for (const f of new Set(credentialFiles)) expect(items, f).toContain(f);
  });

  it('provisions Grafana from grafana/: every provisioning file, every dashboard, where the provider looks', () => {
    const deploy = find(overlay, 'Deployment', 'grafana') as Workload;
    const pod = deploy.spec.template.spec;
    const mounts = pod.containers[0]?.volumeMounts ?? [];
    const provMount = mounts.find((m) => m.mountPath === '/etc/grafana/provisioning');
    const prov = pod.volumes?.find((v) => v.name === provMount?.name);
    const provPaths = (prov?.projected?.sources ?? []).flatMap((src) => {
      const cm = configMap(overlay, src.configMap?.name ?? '');
      return (src.configMap?.items ?? []).map((i) => ({ path: i.path, data: cm?.data[i.key] }));
    });
    const provDir = join(repoRoot, 'grafana', 'provisioning');
    const files = readdirSync(provDir, { recursive: true, withFileTypes: true })
      .filter((d) => d.isFile())
      .map((d) => join(d.parentPath, d.name).slice(provDir.length + 1));
    expect(provPaths.map((p) => p.path).sort()).toEqual(files.sort());
    for (const p of provPaths) expect(p.data, p.path).toBe(read(`grafana/provisioning/${p.path}`));

    const provider = parse(read('grafana/provisioning/dashboards/pynomaly.yml')) as {
      providers: { options: { path: string } }[];
    };
    const dashMount = mounts.find((m) => m.mountPath === provider.providers[0]?.options.path);
    const dashVolume = pod.volumes?.find((v) => v.name === dashMount?.name);
    const dashboards = configMap(overlay, dashVolume?.configMap?.name ?? '')?.data ?? {};
    const jsonFiles = readdirSync(join(repoRoot, 'grafana', 'dashboards')).filter((f) => f.endsWith('.json'));
    expect(Object.keys(dashboards).sort()).toEqual(jsonFiles.sort());
    for (const f of jsonFiles) expect(dashboards[f], f).toBe(read(`grafana/dashboards/${f}`));
  });

  it('documents every Secret key the manifests reference', () => {
    const ops = read('docs/operations.md');
    const keys = new Set<string>();
    JSON.stringify(objects(overlay), (k, v: unknown) => {
      const ref = v as { secretKeyRef?: { key: string }; secret?: { items?: { key: string }[] } };
      if (k === 'valueFrom' && ref?.secretKeyRef) keys.add(ref.secretKeyRef.key);
      if (ref?.secret?.items) for (const i of ref.secret.items) keys.add(i.key);
      return v;
    });
    expect(keys.size).toBeGreaterThan(3);
    for (const key of keys) expect(ops, `docs/operations.md names ${key}`).toContain(`\`${key}\``);
  });
});

describe('secrets', () => {
  it('production carries no Secret object: it is created from the secret store', () => {
    expect(objects('production').filter((o) => o.kind === 'Secret')).toEqual([]);
  });

  it('dev generates one Secret holding every key the manifests reference', () => {
    const secret = find('dev', 'Secret', 'pynomaly-secrets') as K8sObject & { data: Record<string, string> };
    const referenced = new Set<string>();
    JSON.stringify(objects('dev'), (k, v: unknown) => {
      const ref = v as { secretKeyRef?: { key: string }; secret?: { items?: { key: string }[] } };
      if (k === 'valueFrom' && ref?.secretKeyRef) referenced.add(ref.secretKeyRef.key);
      if (ref?.secret?.items) for (const i of ref.secret.items) referenced.add(i.key);
      return v;
    });
    expect(Object.keys(secret.data).sort()).toEqual([...referenced].sort());
  });

  it('sets the production environment in production and development in dev', () => {
    expect(configMap('production', 'pynomaly-config')?.data.PYNOMALY_ENVIRONMENT).toBe('production');
    expect(configMap('dev', 'pynomaly-config')?.data.PYNOMALY_ENVIRONMENT).toBe('development');
  });
});

describe('schema validation catches mistakes', () => {
  it('rejects a misspelt field, a wrong type and a duplicate container name', () => {
    const base = structuredClone(find('production', 'Deployment', 'api')) as Workload;
    const misspelt = structuredClone(base) as Workload & { spec: Record<string, unknown> };
    misspelt.spec.replica = 2;
    expect(schemas.errors(misspelt).join('\n')).toMatch(/additional properties/);
    const wrongType = structuredClone(base) as unknown as { spec: Record<string, unknown> } & K8sObject;
    wrongType.spec.replicas = 'two';
    expect(schemas.errors(wrongType).join('\n')).toMatch(/replicas/);
    const dup = structuredClone(base);
    const c = dup.spec.template.spec.containers[0] as Container;
    dup.spec.template.spec.containers.push(structuredClone(c));
    expect(schemas.errors(dup).length).toBeGreaterThan(0);
    expect(schemas.errors(base)).toEqual([]);
  });
});
