import { createServer } from 'node:net';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { assertPortFree } from '../health.js';
import { localizeAddresses, portsFor } from '../ports.js';

// These tests state the default profiles, so an offset set for the whole run must not leak in.
const inherited = process.env.PYNOMALY_PORT_OFFSET;
beforeEach(() => {
  delete process.env.PYNOMALY_PORT_OFFSET;
});
afterAll(() => {
  if (inherited !== undefined) process.env.PYNOMALY_PORT_OFFSET = inherited;
});

describe('port profiles', () => {
  it('uses the standard ports for dev and a +10000 block for tests', () => {
    expect(portsFor('dev').api.http).toBe(8000);
    expect(portsFor('dev')['otel-collector'].health).toBe(13133);
    expect(portsFor('test').api.http).toBe(18000);
    expect(portsFor('test').prometheus.http).toBe(19090);
  });

  it('honours PYNOMALY_PORT_OFFSET and rejects nonsense', () => {
    process.env.PYNOMALY_PORT_OFFSET = '30000';
    expect(portsFor('test').kafka.broker).toBe(39092);
    process.env.PYNOMALY_PORT_OFFSET = 'ten';
    expect(() => portsFor('test')).toThrow(/PYNOMALY_PORT_OFFSET must be an integer/);
  });
});

describe('address rendering', () => {
  it('rewrites only the compose addresses it knows, nothing else', () => {
    const source = [
      "- targets: ['api:8000', 'otel-collector:8889']",
      'url: http://api:8000/api/v1/alerts/webhook',
      'endpoint: trace-backend:4317',
      'other: example:8000 and api:9999 and time: 10:30',
    ].join('\n');
    const out = localizeAddresses(source, portsFor('test'));
    expect(out).toBe(
      [
        "- targets: ['127.0.0.1:18000', '127.0.0.1:18889']",
        'url: http://127.0.0.1:18000/api/v1/alerts/webhook',
        'endpoint: 127.0.0.1:14327',
        'other: example:8000 and api:9999 and time: 10:30',
      ].join('\n'),
    );
  });
});

describe('port conflicts', () => {
  it('names the port and the component when a port is taken', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const address = server.address();
    const taken = typeof address === 'object' && address ? address.port : 0;
    try {
      await expect(assertPortFree(taken, 'prometheus')).rejects.toThrow(
        new RegExp(`port ${taken} \\(needed by prometheus\\) is already in use`),
      );
    } finally {
      server.close();
    }
  });
});
