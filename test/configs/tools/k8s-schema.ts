/**
 * Validates Kubernetes objects against the Kubernetes OpenAPI v3 documents of one release
 * (`api/openapi-spec/v3` of the k8s.io/kubernetes module), offline, with ajv.
 *
 * Stricter than the API server's schema alone, like kubeconform's strict mode: an object schema
 * that lists its properties rejects any other (so a misspelt field fails instead of being
 * dropped), and lists the API server merges by key (`x-kubernetes-list-type: map`, e.g. containers
 * by name, ports by containerPort+protocol) must not repeat a key.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

type Schema = Record<string, unknown>;

function strictify(node: unknown): void {
  if (Array.isArray(node)) {
    node.forEach(strictify);
    return;
  }
  if (!node || typeof node !== 'object') return;
  const schema = node as Schema;
  if (schema.properties && typeof schema.properties === 'object' && !('additionalProperties' in schema)) {
    schema.additionalProperties = false;
  }
  for (const value of Object.values(schema)) strictify(value);
}

function documentFile(apiVersion: string): string {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  return group ? `apis__${group}__${version}_openapi.json` : `api__${version}_openapi.json`;
}

export class KubernetesSchemas {
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly ajv: Ajv;
  private readonly loaded = new Map<string, Record<string, Schema>>();

  constructor(private readonly openApiDir: string) {
    this.ajv = new Ajv({ allErrors: true, strict: false, validateFormats: true });
    addFormats.default(this.ajv);
    this.ajv.addFormat('int32', {
      type: 'number',
      validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31,
    });
    this.ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) });
    this.ajv.addFormat('double', { type: 'number', validate: () => true });
    this.ajv.addFormat('int-or-string', () => true);
    // Base64, possibly wrapped in lines as kustomize writes long values (the API server's decoder
    // skips the line breaks).
    this.ajv.addFormat('byte', (s: string) => /^[A-Za-z0-9+/]*={0,2}$/.test(s.replace(/\r?\n/g, '')));
    this.ajv.addKeyword({
      keyword: 'x-kubernetes-list-map-keys',
      type: 'array',
      schemaType: 'array',
      validate: (keys: string[], data: unknown[]) => {
        const seen = new Set<string>();
        for (const item of data) {
          const k = JSON.stringify(keys.map((key) => (item as Record<string, unknown>)?.[key] ?? null));
          if (seen.has(k)) return false;
          seen.add(k);
        }
        return true;
      },
    });
  }

  private schemas(file: string): Record<string, Schema> {
    let schemas = this.loaded.get(file);
    if (!schemas) {
      const path = join(this.openApiDir, file);
      if (!existsSync(path)) throw new Error(`no Kubernetes OpenAPI document ${file} (unknown apiVersion?)`);
      const doc = JSON.parse(readFileSync(path, 'utf8')) as { components: { schemas: Record<string, Schema> } };
      strictify(doc.components.schemas);
      this.ajv.addSchema(doc, file);
      schemas = doc.components.schemas;
      this.loaded.set(file, schemas);
    }
    return schemas;
  }

  private validator(apiVersion: string, kind: string): ValidateFunction {
    const key = `${apiVersion}/${kind}`;
    let validate = this.validators.get(key);
    if (validate) return validate;
    const file = documentFile(apiVersion);
    const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
    const entry = Object.entries(this.schemas(file)).find(([, s]) =>
      ((s['x-kubernetes-group-version-kind'] as { group: string; version: string; kind: string }[]) ?? []).some(
        (gvk) => gvk.group === group && gvk.version === version && gvk.kind === kind,
      ),
    );
    if (!entry) throw new Error(`the Kubernetes schema has no ${kind} in ${apiVersion}`);
    validate = this.ajv.compile({ $ref: `${file}#/components/schemas/${entry[0]}` });
    this.validators.set(key, validate);
    return validate;
  }

  /** Returns the schema errors of one object (empty when it is valid). */
  errors(obj: K8sObject): string[] {
    const validate = this.validator(obj.apiVersion, obj.kind);
    const where = `${obj.kind}/${obj.metadata?.name}`;
    if (validate(obj)) return [];
    return (validate.errors ?? []).map((e) => `${where}${e.instancePath}: ${e.message} ${JSON.stringify(e.params)}`);
  }
}
