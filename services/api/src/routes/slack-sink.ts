/**
 * The Slack-format sink: Alertmanager's Slack receiver posts here what a Slack incoming webhook
 * would receive (channel, attachments with title, link, text, colour), with the same
 * alerts:write credential as the webhook receiver, and the messages can be read back. It stands
 * in for Slack until a workspace's webhook URL replaces `api_url` in alertmanager/alertmanager.yml.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { repo } from '@pynomaly/shared';
import { z } from 'zod';
import type { OperatorStore } from '../operator-store.js';
import { iso } from '../schemas.js';

/** Slack's incoming-webhook message: text and/or attachments; the rest is kept as sent. */
const slackMessage = z.looseObject({
  channel: z.string().max(200).optional(),
  username: z.string().max(200).optional(),
  text: z.string().max(40_000).optional(),
  attachments: z.array(z.looseObject({})).max(100).optional(),
});

export const slackSinkRoutes: FastifyPluginAsyncZod<{ operator: OperatorStore }> = async (app, { operator }) => {
  app.post(
    '/api/v1/alerts/slack',
    {
      schema: {
        'x-scope': 'alerts:write',
        tags: ['alerts'],
        summary: "Records a Slack incoming-webhook message (Alertmanager's Slack receiver); answers like Slack",
        body: slackMessage,
      },
    },
    async (request, reply) => {
      await operator.recordSlackMessage(request.body);
      return reply.type('text/plain').send('ok');
    },
  );

  app.get(
    '/api/v1/alerts/slack',
    {
      schema: {
        'x-scope': 'read',
        tags: ['alerts'],
        summary: `Slack-format messages the sink received, newest first (it keeps the newest ${repo.SLACK_SINK_KEEP})`,
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(500).default(50) }),
        response: {
          200: z.object({
            items: z.array(
              z.object({ id: z.uuid(), receivedAt: z.string(), payload: z.record(z.string(), z.unknown()) }),
            ),
          }),
        },
      },
    },
    async (request) => ({
      items: (await operator.listSlackMessages(request.query.limit)).map((m) => ({
        id: m.id,
        receivedAt: iso(m.receivedAt)!,
        payload: m.payload,
      })),
    }),
  );
};
