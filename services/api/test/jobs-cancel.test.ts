import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { API_KEY, seed, testApp } from './helpers.js';

const auth = { 'x-api-key': API_KEY };

describe('POST /api/v1/jobs/:id/cancel', () => {
  it('cancels a queued or running job (202 with the job), 409 once finished, 404 when unknown', async () => {
    const { app, store } = await testApp();
    const { detector } = await seed(store, false);
    const queued = await store.requestTraining(detector);
    const res = await app.inject({ method: 'POST', url: `/api/v1/jobs/${queued.id}/cancel`, headers: auth });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ id: queued.id, state: 'cancelled', reason: 'cancelled on request' });
    expect(res.json().finishedAt).not.toBeNull();

    const running = await store.requestTraining(detector);
    store.jobs.set(running.id, { ...running, state: 'running', attempts: 1 });
    const r2 = await app.inject({ method: 'POST', url: `/api/v1/jobs/${running.id}/cancel`, headers: auth });
    expect(r2.statusCode).toBe(202);
    expect((await store.getJob(running.id))!.state).toBe('cancelled');

    const again = await app.inject({ method: 'POST', url: `/api/v1/jobs/${queued.id}/cancel`, headers: auth });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: 'job_finished' });
    expect(again.json().message).toContain('(cancelled)');

    const unknown = await app.inject({ method: 'POST', url: `/api/v1/jobs/${randomUUID()}/cancel`, headers: auth });
    expect(unknown.statusCode).toBe(404);
    const badId = await app.inject({ method: 'POST', url: '/api/v1/jobs/not-a-uuid/cancel', headers: auth });
    expect(badId.statusCode).toBe(400);
    await app.close();
  });
});
