// The two port profiles. Configs are written with compose service names and standard ports;
// this table says where each of those lives when the stack runs as local processes.
import type { Profile } from './paths.js';

/** Standard (dev) ports by component and role. */
export const basePorts = {
  api: { http: 8000 },
  'training-worker': { metrics: 9102 },
  'drift-worker': { metrics: 9103 },
  postgres: { sql: 5432 },
  kafka: { broker: 9092, controller: 9095, sasl: 9096 },
  'otel-collector': { grpc: 4317, http: 4318, telemetry: 8888, prometheus: 8889, health: 13133 },
  'trace-backend': { grpc: 4327, query: 16686, queryGrpc: 16685, telemetry: 8898, health: 13134 },
  zipkin: { http: 9411 },
  'log-store': { http: 9428 },
  prometheus: { http: 9090 },
  alertmanager: { http: 9093 },
  'postgres-exporter': { http: 9187 },
  'node-exporter': { http: 9100 },
  mailpit: { smtp: 1025, http: 8025 },
} as const;

export type ComponentName = keyof typeof basePorts;

/**
 * Addresses as the configs write them (`<service>:<port>` in compose) → the local component
 * and role. The trace backend listens on 4317 in compose but shares this host with the main
 * Collector, so locally it moves to its own port.
 */
const canonicalAddresses: Record<string, [ComponentName, string]> = {
  'api:8000': ['api', 'http'],
  'training-worker:9102': ['training-worker', 'metrics'],
  'drift-worker:9103': ['drift-worker', 'metrics'],
  'postgres:5432': ['postgres', 'sql'],
  'kafka:9092': ['kafka', 'broker'],
  'otel-collector:4317': ['otel-collector', 'grpc'],
  'otel-collector:4318': ['otel-collector', 'http'],
  'otel-collector:8888': ['otel-collector', 'telemetry'],
  'otel-collector:8889': ['otel-collector', 'prometheus'],
  'otel-collector:13133': ['otel-collector', 'health'],
  'trace-backend:4317': ['trace-backend', 'grpc'],
  'trace-backend:16686': ['trace-backend', 'query'],
  'zipkin:9411': ['zipkin', 'http'],
  'log-store:9428': ['log-store', 'http'],
  'prometheus:9090': ['prometheus', 'http'],
  'alertmanager:9093': ['alertmanager', 'http'],
  'postgres-exporter:9187': ['postgres-exporter', 'http'],
  'node-exporter:9100': ['node-exporter', 'http'],
  'mailpit:1025': ['mailpit', 'smtp'],
  'mailpit:8025': ['mailpit', 'http'],
};

export function portOffset(profile: Profile): number {
  const fromEnv = process.env.PYNOMALY_PORT_OFFSET;
  if (fromEnv !== undefined && fromEnv !== '') {
    const n = Number(fromEnv);
    if (!Number.isInteger(n) || n < 0 || n > 50000) {
      throw new Error(`PYNOMALY_PORT_OFFSET must be an integer between 0 and 50000, got "${fromEnv}"`);
    }
    return n;
  }
  return profile === 'test' ? 10000 : 0;
}

export type PortMap = { [C in ComponentName]: { [R in keyof (typeof basePorts)[C]]: number } };

export function portsFor(profile: Profile): PortMap {
  const offset = portOffset(profile);
  const out: Record<string, Record<string, number>> = {};
  for (const [component, roles] of Object.entries(basePorts)) {
    out[component] = Object.fromEntries(Object.entries(roles).map(([role, port]) => [role, port + offset]));
  }
  return out as PortMap;
}

export function port(ports: PortMap, component: ComponentName, role: string): number {
  const p = (ports[component] as Record<string, number>)[role];
  if (p === undefined) throw new Error(`no port "${role}" for ${component}`);
  return p;
}

/**
 * Rewrites every `<service>:<port>` the configs use into `127.0.0.1:<local port>`. Only
 * addresses change, so the rendered file is the real file, not a copy to keep in sync.
 */
export function localizeAddresses(text: string, ports: PortMap): string {
  return text.replace(/\b([a-z][a-z-]*[a-z]):(\d{2,5})\b/g, (match, host: string, p: string) => {
    const target = canonicalAddresses[`${host}:${p}`];
    if (!target) return match;
    return `127.0.0.1:${port(ports, target[0], target[1])}`;
  });
}
