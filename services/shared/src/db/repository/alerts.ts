/** Alert history as delivered by Alertmanager's webhook. */
import type { Queryable } from '../pool.js';

export interface AlertRecord {
  id: string;
  fingerprint: string;
  alertname: string;
  status: 'firing' | 'resolved';
  severity: string | null;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: Date | null;
  endsAt: Date | null;
  generatorUrl: string | null;
  receiver: string | null;
  groupKey: string | null;
  receivedAt: Date;
}

const alertCols = `id, fingerprint, alertname, status, severity, labels, annotations, starts_at AS "startsAt",
  ends_at AS "endsAt", generator_url AS "generatorUrl", receiver, group_key AS "groupKey", received_at AS "receivedAt"`;

export async function insertAlert(q: Queryable, a: Omit<AlertRecord, 'receivedAt'>): Promise<void> {
  await q.query(
    `INSERT INTO alerts (id, fingerprint, alertname, status, severity, labels, annotations, starts_at, ends_at,
       generator_url, receiver, group_key)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
    [
      a.id,
      a.fingerprint,
      a.alertname,
      a.status,
      a.severity,
      JSON.stringify(a.labels),
      JSON.stringify(a.annotations),
      a.startsAt,
      a.endsAt,
      a.generatorUrl,
      a.receiver,
      a.groupKey,
    ],
  );
}

export async function listAlerts(
  q: Queryable,
  opts: { limit?: number; status?: 'firing' | 'resolved' | undefined } = {},
): Promise<AlertRecord[]> {
  const r = await q.query<AlertRecord>(
    `SELECT ${alertCols} FROM alerts WHERE ($1::text IS NULL OR status = $1) ORDER BY received_at DESC LIMIT $2`,
    [opts.status ?? null, opts.limit ?? 100],
  );
  return r.rows;
}
