// The local runner's rendered configs are the real files with only addresses changed, and they
// still pass the ecosystems' own validators.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { componentByName, context } from '../../compose/local/components.js';
import { projectRoot } from '../../compose/local/paths.js';
import { prometheusTools } from '../../compose/local/tools.js';

let dir: string;

// The assertions name the default test ports; an offset set for the whole run must not leak in.
const inheritedOffset = process.env.PYNOMALY_PORT_OFFSET;

beforeAll(async () => {
  delete process.env.PYNOMALY_PORT_OFFSET;
  dir = mkdtempSync(join(tmpdir(), 'pynomaly-render-'));
  process.env.PYNOMALY_VAR_DIR = dir;
  const ctx = context('test');
  await componentByName('prometheus').prepare?.(ctx);
  await componentByName('alertmanager').prepare?.(ctx);
});

afterAll(() => {
  delete process.env.PYNOMALY_VAR_DIR;
  if (inheritedOffset !== undefined) process.env.PYNOMALY_PORT_OFFSET = inheritedOffset;
  rmSync(dir, { recursive: true, force: true });
});

describe('configs rendered by the local runner (test profile)', () => {
  it('prometheus.yml differs from the real file only in addresses, and promtool accepts it', () => {
    const real = readFileSync(join(projectRoot, 'prometheus', 'prometheus.yml'), 'utf8');
    const rendered = readFileSync(join(dir, 'config', 'prometheus', 'prometheus.yml'), 'utf8');
    const unaddress = (s: string) => s.replace(/(127\.0\.0\.1|[a-z][a-z-]*[a-z]):\d{2,5}/g, 'ADDR');
    expect(unaddress(rendered)).toBe(unaddress(real));
    expect(rendered).toContain('127.0.0.1:19093');
    const out = execFileSync(
      prometheusTools.promtool(),
      ['check', 'config', join(dir, 'config', 'prometheus', 'prometheus.yml')],
      { encoding: 'utf8' },
    );
    expect(out).toMatch(/SUCCESS/);
    expect(readFileSync(join(dir, 'config', 'prometheus', 'secrets', 'scrape-token'), 'utf8')).toBe(
      readFileSync(join(projectRoot, 'compose', 'test-secrets', 'scrape-token'), 'utf8'),
    );
  });

  it('uses the local file_sd targets as the active ones, on the test ports', () => {
    const active = readdirSync(join(dir, 'config', 'prometheus', 'targets', 'active'));
    expect(active).toEqual(readdirSync(join(projectRoot, 'prometheus', 'targets', 'local')));
    const api = readFileSync(join(dir, 'config', 'prometheus', 'targets', 'active', 'api.yml'), 'utf8');
    expect(api).toContain("'127.0.0.1:18000'");
    expect(api).not.toMatch(/api:8000/);
  });

  it('alertmanager.yml points the webhook at the local API and amtool accepts it', () => {
    const rendered = readFileSync(join(dir, 'config', 'alertmanager', 'alertmanager.yml'), 'utf8');
    expect(rendered).toContain('http://127.0.0.1:18000/api/v1/alerts/webhook');
    // The webhook's own alerts:write key, not the admin key the tests use.
    expect(readFileSync(join(dir, 'config', 'alertmanager', 'secrets', 'api-webhook-token'), 'utf8')).toBe(
      readFileSync(join(projectRoot, 'compose', 'test-secrets', 'api-webhook-token'), 'utf8'),
    );
    const out = execFileSync(
      prometheusTools.amtool(),
      ['check-config', join(dir, 'config', 'alertmanager', 'alertmanager.yml')],
      { encoding: 'utf8' },
    );
    expect(out).toMatch(/SUCCESS/);
  });
});
