import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { instruments, type AlertRecord } from '@pynomaly/shared';
import { z } from 'zod';
import { alertmanagerWebhook, alertResponse, alertsQuery, iso } from '../schemas.js';
import type { ApiStore } from '../store.js';

const toResponse = (a: AlertRecord) => ({
  id: a.id,
  fingerprint: a.fingerprint,
  alertname: a.alertname,
  status: a.status,
  severity: a.severity,
  labels: a.labels,
  annotations: a.annotations,
  startsAt: iso(a.startsAt),
  endsAt: iso(a.endsAt),
  receivedAt: iso(a.receivedAt)!,
});

/** Alertmanager's "zero" time means "not set". */
function alertTime(s: string): Date | null {
  const d = new Date(s);
  return Number.isNaN(d.getTime()) || d.getUTCFullYear() < 1971 ? null : d;
}

export const alertRoutes: FastifyPluginAsyncZod<{ store: ApiStore }> = async (app, { store }) => {
  app.get(
    '/api/v1/alerts',
    {
      schema: {
        'x-scope': 'read',
        tags: ['alerts'],
        querystring: alertsQuery,
        response: { 200: z.object({ items: z.array(alertResponse) }) },
      },
    },
    async (request) => ({ items: (await store.listAlerts(request.query)).map(toResponse) }),
  );

  app.post(
    '/api/v1/alerts/webhook',
    {
      schema: {
        'x-scope': 'alerts:write',
        tags: ['alerts'],
        summary: 'Alertmanager webhook receiver (payload version 4); stores each alert in the history',
        body: alertmanagerWebhook,
        response: { 200: z.object({ stored: z.number().int() }) },
      },
    },
    async (request) => {
      const p = request.body;
      const stored = await store.insertAlerts(
        p.alerts.map((a) => ({
          fingerprint: a.fingerprint,
          alertname: a.labels.alertname!,
          status: a.status,
          severity: a.labels.severity ?? null,
          labels: a.labels,
          annotations: a.annotations,
          startsAt: alertTime(a.startsAt),
          endsAt: alertTime(a.endsAt),
          generatorUrl: a.generatorURL || null,
          receiver: p.receiver,
          groupKey: p.groupKey,
        })),
      );
      for (const a of p.alerts)
        instruments().alertsReceived.add(1, { alertname: a.labels.alertname!, status: a.status });
      return { stored };
    },
  );
};
