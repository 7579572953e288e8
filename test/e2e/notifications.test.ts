// Notifications that arrive, on the live test stack: the drift alert (DataDriftDetected) fires and
// resolves through the real chain (drift worker → Prometheus → Alertmanager), and besides the API
// webhook it reaches people by email (Mailpit, the SMTP server of the stack: read back through its
// HTTP API, subject and runbook link) and on Slack (the API's Slack-format sink records what a
// Slack incoming webhook would receive), firing first and resolved after.
import { beforeAll, describe, expect, it } from 'vitest';
import { endpoints } from '../../compose/local/stack.js';
import { ApiClient } from '../../testkit/api-client.js';
import { trainDetector, type TrainedDetector } from '../../testkit/traffic.js';
import { alertChain, describeChain } from '../support/alert-chain.js';
import { eventually } from '../support/stack-clients.js';

const e = endpoints('test');
const api = new ApiClient(e.apiUrl, e.apiKey);

interface MailSummary {
  ID: string;
  Subject: string;
  To: { Address: string }[];
}
interface Mail {
  ID: string;
  Subject: string;
  Text: string;
  HTML: string;
}
interface SlackMessage {
  receivedAt: string;
  payload: {
    channel?: string;
    attachments?: { title?: string; title_link?: string; text?: string; color?: string }[];
  };
}

let detector: TrainedDetector;

async function mailsAbout(detectorId: string): Promise<Mail[]> {
  const list = (await (await fetch(`${e.mailpitUrl}/api/v1/messages?limit=500`)).json()) as {
    messages: MailSummary[];
  };
  const mails: Mail[] = [];
  for (const m of list.messages.filter((x) => x.Subject.includes('DataDriftDetected'))) {
    const mail = (await (await fetch(`${e.mailpitUrl}/api/v1/message/${m.ID}`)).json()) as Mail;
    if (mail.Text.includes(detectorId)) mails.push(mail);
  }
  return mails;
}

async function slackAbout(detectorId: string): Promise<SlackMessage[]> {
  const body = await api.ok<{ items: SlackMessage[] }>('GET', '/api/v1/alerts/slack?limit=500');
  return body.items.filter((m) =>
    (m.payload.attachments ?? []).some(
      (a) => a.title?.includes('DataDriftDetected') && (a.text ?? '').includes(detectorId),
    ),
  );
}

beforeAll(async () => {
  detector = await trainDetector(api, { name: `notifications-${Date.now()}`, seed: 41 });
}, 300_000);

describe('alert notifications', () => {
  it('the drift alert arrives by email and on Slack, and its resolution follows on both', async () => {
    const log: string[] = [];
    const chain = await alertChain(api, e, detector, (l) => log.push(l));
    console.log([...log, describeChain(chain)].join('\n'));
    const id = detector.detectorId;

    const mails = await eventually(
      'the firing and the resolved email',
      async () => {
        const found = await mailsAbout(id);
        return found.some((m) => m.Subject.startsWith('[FIRING')) &&
          found.some((m) => m.Subject.startsWith('[RESOLVED'))
          ? found
          : undefined;
      },
      120_000,
      2000,
    );
    const firingMail = mails.find((m) => m.Subject.startsWith('[FIRING'))!;
    const resolvedMail = mails.find((m) => m.Subject.startsWith('[RESOLVED'))!;
    console.log(`email: "${firingMail.Subject}" then "${resolvedMail.Subject}"`);
    expect(firingMail.Subject).toMatch(/^\[FIRING:1\] DataDriftDetected/);
    expect(resolvedMail.Subject).toMatch(/^\[RESOLVED\] DataDriftDetected/);
    for (const m of [firingMail, resolvedMail]) {
      expect(m.Text).toContain(`Data drift on detector ${id}`);
      expect(m.Text).toContain('warning');
      expect(m.Text).toMatch(/Runbook: \S+docs\/runbooks\/DataDriftDetected\.md/);
      expect(m.Text).toContain(`Dashboard: http://localhost:3000/d/pynomaly-drift?var-detector=${id}`);
      expect(m.HTML).toContain('docs/runbooks/DataDriftDetected.md');
    }

    const slack = await eventually(
      'the firing and the resolved Slack message',
      async () => {
        const found = await slackAbout(id);
        const titles = found.flatMap((m) => (m.payload.attachments ?? []).map((a) => a.title ?? ''));
        return titles.some((t) => t.startsWith('[FIRING')) && titles.some((t) => t.startsWith('[RESOLVED'))
          ? found
          : undefined;
      },
      120_000,
      2000,
    );
    const attachments = slack.flatMap((m) => m.payload.attachments ?? []);
    const firing = attachments.find((a) => a.title?.startsWith('[FIRING'))!;
    const resolved = attachments.find((a) => a.title?.startsWith('[RESOLVED'))!;
    console.log(`slack: "${firing.title}" (${firing.color}) then "${resolved.title}" (${resolved.color})`);
    expect(slack[0]!.payload.channel).toBe('#pynomaly-alerts');
    expect(firing.color).toBe('warning');
    expect(resolved.color).toBe('good');
    expect(firing.title_link).toBe(`http://localhost:3000/d/pynomaly-drift?var-detector=${id}`);
    expect(firing.text).toMatch(/Runbook: \S+docs\/runbooks\/DataDriftDetected\.md/);
  }, 900_000);
});
