// Migrations on the live Postgres: services started together (replicas rolled out at once, the
// API and both workers) apply them once, and the others wait for that rather than fail to start.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createLogger, createPool, migrate } from '@pynomaly/shared';
import { context, superuserQuery } from '../../compose/local/components.js';
import { endpoints } from '../../compose/local/stack.js';

const e = endpoints('test');

/** The stack's database URL pointed at another database of the same cluster. */
function databaseUrl(name: string): string {
  const url = new URL(e.databaseUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

describe('migrations', () => {
  it('four services migrating an empty database at once all start; each migration is applied once', async () => {
    const ctx = context('test');
    const name = `migrate_race_${randomUUID().replaceAll('-', '')}`;
    const owner = new URL(e.databaseUrl).username;
    await superuserQuery(ctx, `CREATE DATABASE ${name} OWNER ${owner}`);
    const pools = Array.from({ length: 4 }, (_, i) => createPool(databaseUrl(name), 2, `migrate-race-${i}`));
    try {
      const logger = createLogger({ service: 'migrations-test', level: 'silent' });
      const outcomes = await Promise.allSettled(pools.map((p) => migrate(p, logger)));
      const failures = outcomes.flatMap((o) => (o.status === 'rejected' ? [String(o.reason)] : []));
      expect(failures).toEqual([]);
      const applied = outcomes.map((o) => (o.status === 'fulfilled' ? o.value : []));
      const stored = (await pools[0]!.query<{ name: string }>('SELECT name FROM pgmigrations')).rows.map((r) => r.name);
      console.log(
        `migrations applied per service: ${applied.map((a) => a.length).join(', ')}; stored ${stored.length}`,
      );
      expect(stored.length).toBeGreaterThan(0);
      expect(new Set(stored).size).toBe(stored.length);
      // One service applied every migration; the others waited and found nothing left to do.
      expect(applied.filter((a) => a.length > 0)).toHaveLength(1);
      expect(applied.flat().sort()).toEqual([...stored].sort());
    } finally {
      await Promise.all(pools.map((p) => p.end()));
      await superuserQuery(ctx, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    }
  });
});
