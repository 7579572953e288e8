/** Postgres connection pool and programmatic migrations (node-pg-migrate, advisory-locked). */
import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import { context, trace } from '@opentelemetry/api';
import pg from 'pg';
import type { Logger } from '../logging.js';
import { TracedClient } from './traced-client.js';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;
/** Anything that can run a query: the pool or a client inside a transaction. */
export type Queryable = Pick<pg.Pool, 'query'> | Pick<pg.PoolClient, 'query'>;

// numeric/bigint come back as strings by default; our counts fit in a double.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

/**
 * A pool whose connections can all die (a Postgres restart, a failover, a network cut) without
 * taking the process down. pg emits 'error' on the client whose socket broke, and an EventEmitter
 * with no 'error' listener throws: the pool listens on idle clients only, and removes its listener
 * while a client is checked out (a transaction between two queries, a relay waiting on Kafka). So
 * every client gets its own listener for its whole life; the query in flight, if any, still
 * rejects with the same error, and the broken client is discarded when it is released.
 */
export function createPool(
  url: string,
  max: number,
  applicationName: string,
  onConnectionError: (err: Error) => void = () => {},
): pg.Pool {
  const pool = new pg.Pool({
    // Every query the services make goes through this client: its spans (traced-client.ts).
    Client: TracedClient,
    connectionString: url,
    max,
    application_name: applicationName,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 5_000,
  });
  guardPool(pool, onConnectionError);
  return pool;
}

/** Listens for 'error' on the pool and on every client it creates (see createPool). */
export function guardPool(pool: pg.Pool, onConnectionError: (err: Error) => void): void {
  pool.on('error', onConnectionError);
  pool.on('connect', (client) => {
    client.on('error', onConnectionError);
  });
}

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations', import.meta.url));

/**
 * Applies pending migrations. node-pg-migrate takes a Postgres advisory lock, so services starting
 * together run them once and the others wait: in its default mode a service that finds the lock
 * taken fails to start instead, which several replicas rolled out at once would all but one do.
 */
export async function migrate(pool: pg.Pool, logger: Logger): Promise<string[]> {
  return withClient(pool, async (client) => {
    const applied = await runner({
      dbClient: client,
      dir: MIGRATIONS_DIR,
      direction: 'up',
      migrationsTable: 'pgmigrations',
      count: Infinity,
      checkOrder: true,
      singleTransaction: true,
      advisoryLockMode: 'wait',
      log: (msg: string) => logger.debug({ component: 'migrations' }, msg),
      verbose: false,
    });
    const names = applied.map((m) => m.name);
    if (names.length > 0) logger.info({ migrations: names }, 'database migrations applied');
    return names;
  });
}

/**
 * Checks a client out for `use`. While checked out the pool no longer listens for the client's
 * errors, and a connection Postgres ends between two queries (a restart) is emitted as an 'error'
 * event, which would crash the process unheard; the next query fails instead, and the release
 * with that error makes the pool discard the client.
 */
async function withClient<T>(
  pool: pg.Pool,
  use: (client: pg.PoolClient, discard: (err: Error) => void) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let lost: Error | undefined;
  const onError = (err: Error) => {
    lost = err;
  };
  client.on('error', onError);
  try {
    return await use(client, onError);
  } finally {
    client.off('error', onError);
    client.release(lost);
  }
}

/**
 * Runs a transaction-control statement outside any span: queries are traced only with a parent
 * span (traced-client.ts), and a BEGIN/COMMIT/ROLLBACK span says nothing the enclosing span
 * (its duration covers the commit) and the statements' own spans do not. Two spans fewer per
 * transaction, on every request that writes.
 */
function control(client: pg.PoolClient, statement: 'BEGIN' | 'COMMIT' | 'ROLLBACK'): Promise<unknown> {
  return context.with(trace.deleteSpan(context.active()), () => client.query(statement));
}

export async function withTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return withClient(pool, async (client, discard) => {
    try {
      await control(client, 'BEGIN');
      const result = await fn(client);
      await control(client, 'COMMIT');
      return result;
    } catch (err) {
      // A client whose ROLLBACK fails has lost its connection (or is in an unknown state): it is
      // destroyed on release rather than handed to the next caller.
      await control(client, 'ROLLBACK').catch((rollbackErr: unknown) => {
        discard(rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr)));
      });
      throw err;
    }
  });
}
