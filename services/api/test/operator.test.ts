// The operator routes over in-memory stores: jobs listed with filters and cursor paging, a failed
// job retried, dead letters listed, inspected, replayed once and discarded; bad input is a 400
// naming the parameter.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Job } from '@pynomaly/shared';
import { FakeOperatorStore } from './fake-operator-store.js';
import { ALERTS_KEY, API_KEY, seed, testApp } from './helpers.js';
import { FakeStore } from './fake-store.js';

const auth = { 'x-api-key': API_KEY };

async function setup() {
  const store = new FakeStore();
  const operator = new FakeOperatorStore(store);
  const { app } = await testApp({ store, operator });
  const { detector } = await seed(store, false);
  return { app, store, operator, detector };
}

describe('GET /api/v1/jobs', () => {
  it('lists newest first, filters by state and detector, and pages with nextCursor until null', async () => {
    const { app, store, detector } = await setup();
    const base = Date.parse('2026-01-01T00:00:00Z');
    const jobs: Job[] = [];
    for (let i = 0; i < 7; i++) {
      const j = await store.requestTraining(detector);
      const at = new Date(base + i * 1000);
      const job: Job = { ...j, createdAt: at, state: i % 2 === 0 ? 'failed' : 'succeeded', reason: 'x' };
      store.jobs.set(j.id, job);
      jobs.push(job);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const url: string = `/api/v1/jobs?limit=3${cursor ? `&cursor=${cursor}` : ''}`;
      const res = await app.inject({ method: 'GET', url, headers: auth });
      expect(res.statusCode).toBe(200);
      const body = res.json() as { items: Job[]; nextCursor: string | null };
      seen.push(...body.items.map((j) => j.id));
      cursor = body.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual([...jobs].reverse().map((j) => j.id));

    const failed = await app.inject({
      method: 'GET',
      url: `/api/v1/jobs?state=failed&detectorId=${detector.id}`,
      headers: auth,
    });
    expect((failed.json() as { items: Job[] }).items.map((j) => j.id)).toEqual(
      jobs
        .filter((j) => j.state === 'failed')
        .reverse()
        .map((j) => j.id),
    );
    const window = await app.inject({
      method: 'GET',
      url: `/api/v1/jobs?createdFrom=2026-01-01T00:00:02Z&createdTo=2026-01-01T00:00:04Z`,
      headers: auth,
    });
    expect((window.json() as { items: Job[] }).items.map((j) => j.id)).toEqual([jobs[3]!.id, jobs[2]!.id]);
    const other = await app.inject({ method: 'GET', url: `/api/v1/jobs?detectorId=${randomUUID()}`, headers: auth });
    expect(other.json()).toEqual({ items: [], nextCursor: null });
    await app.close();
  });

  it('answers 400 naming the parameter for a bad state, cursor, time or limit', async () => {
    const { app } = await setup();
    for (const [query, path] of [
      ['state=exploded', 'state'],
      ['cursor=bm9wZQ', 'cursor'],
      ['createdFrom=yesterday', 'createdFrom'],
      ['limit=0', 'limit'],
      ['colour=red', ''],
    ] as const) {
      const res = await app.inject({ method: 'GET', url: `/api/v1/jobs?${query}`, headers: auth });
      expect(res.statusCode, query).toBe(400);
      expect(JSON.stringify(res.json()), query).toContain(path);
    }
    await app.close();
  });
});

describe('POST /api/v1/jobs/:id/retry', () => {
  it('puts a failed job back to queued with its attempts reset (202); 409 while it is not failed; 404 unknown', async () => {
    const { app, store, operator, detector } = await setup();
    const j = await store.requestTraining(detector);
    store.jobs.set(j.id, { ...j, state: 'failed', attempts: 3, reason: 'boom' });
    const res = await app.inject({ method: 'POST', url: `/api/v1/jobs/${j.id}/retry`, headers: auth });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ id: j.id, state: 'queued', attempts: 0, reason: null });
    expect(operator.retried).toEqual([j.id]);
    const again = await app.inject({ method: 'POST', url: `/api/v1/jobs/${j.id}/retry`, headers: auth });
    expect(again.statusCode).toBe(409);
    expect(again.json().message).toContain('is queued');
    const unknown = await app.inject({ method: 'POST', url: `/api/v1/jobs/${randomUUID()}/retry`, headers: auth });
    expect(unknown.statusCode).toBe(404);
    await app.close();
  });
});

describe('dead letters', () => {
  it('lists and filters them, shows the original bytes and headers, replays once, discards once', async () => {
    const { app, operator } = await setup();
    const poison = operator.addDeadLetter();
    const binary = operator.addDeadLetter({
      value: Buffer.from([0xff, 0xfe, 0x00]),
      originTopic: 'pynomaly.detections.scored',
    });

    const list = await app.inject({ method: 'GET', url: '/api/v1/dead-letters?state=pending', headers: auth });
    expect(list.statusCode).toBe(200);
    expect((list.json() as { items: { id: string }[] }).items.map((d) => d.id).sort()).toEqual(
      [poison.id, binary.id].sort(),
    );
    const byTopic = await app.inject({
      method: 'GET',
      url: '/api/v1/dead-letters?topic=pynomaly.detections.scored',
      headers: auth,
    });
    expect((byTopic.json() as { items: { id: string }[] }).items.map((d) => d.id)).toEqual([binary.id]);

    const shown = await app.inject({ method: 'GET', url: `/api/v1/dead-letters/${poison.id}`, headers: auth });
    expect(shown.json()).toMatchObject({
      value: '{"poison":true}',
      valueBase64: Buffer.from('{"poison":true}').toString('base64'),
      headers: { 'event-type': 'training.requested' },
      eventType: 'training.requested',
      reason: 'invalid_schema',
      bytes: 15,
    });
    const shownBinary = await app.inject({ method: 'GET', url: `/api/v1/dead-letters/${binary.id}`, headers: auth });
    expect(shownBinary.json()).toMatchObject({ value: null, valueBase64: '//4A' });

    const replay = await app.inject({ method: 'POST', url: `/api/v1/dead-letters/${poison.id}/replay`, headers: auth });
    expect(replay.statusCode).toBe(202);
    expect(replay.json()).toMatchObject({ state: 'replayed' });
    const twice = await app.inject({ method: 'POST', url: `/api/v1/dead-letters/${poison.id}/replay`, headers: auth });
    expect(twice.statusCode).toBe(409);
    expect(twice.json().message).toContain('already replayed');
    expect(operator.replayed).toEqual([poison.id]);

    const notText = await app.inject({
      method: 'POST',
      url: `/api/v1/dead-letters/${binary.id}/replay`,
      headers: auth,
    });
    expect(notText.statusCode).toBe(422);
    const discard = await app.inject({
      method: 'POST',
      url: `/api/v1/dead-letters/${binary.id}/discard`,
      headers: auth,
    });
    expect(discard.statusCode).toBe(200);
    expect(discard.json()).toMatchObject({ state: 'discarded' });
    const discardAgain = await app.inject({
      method: 'POST',
      url: `/api/v1/dead-letters/${binary.id}/discard`,
      headers: auth,
    });
    expect(discardAgain.statusCode).toBe(409);
    const unknown = await app.inject({ method: 'GET', url: `/api/v1/dead-letters/${randomUUID()}`, headers: auth });
    expect(unknown.statusCode).toBe(404);
    await app.close();
  });
});

describe('the Slack-format sink', () => {
  it('records what a Slack incoming webhook receives (alerts:write) and lists it newest first (read)', async () => {
    const { app } = await setup();
    const message = {
      channel: '#pynomaly-alerts',
      attachments: [{ title: '[FIRING:1] DataDriftDetected', title_link: 'http://runbook', text: 'warning · drift' }],
    };
    const posted = await app.inject({
      method: 'POST',
      url: '/api/v1/alerts/slack',
      headers: { authorization: `Bearer ${ALERTS_KEY}` },
      payload: message,
    });
    expect(posted.statusCode).toBe(200);
    expect(posted.body).toBe('ok');
    const listed = await app.inject({ method: 'GET', url: '/api/v1/alerts/slack', headers: auth });
    expect(listed.json().items[0].payload).toEqual(message);
    const bad = await app.inject({
      method: 'POST',
      url: '/api/v1/alerts/slack',
      headers: { authorization: `Bearer ${ALERTS_KEY}` },
      payload: { attachments: 'not a list' },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toContain('attachments');
    await app.close();
  });
});
