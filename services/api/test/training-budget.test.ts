import { describe, expect, it } from 'vitest';
import { API_KEY, seed, testApp } from './helpers.js';

const auth = { 'x-api-key': API_KEY };

describe('training cost budget at the API', () => {
  it('refuses a detector over the budget with 422 naming the setting, and admits one within', async () => {
    const { app, store } = await testApp({ trainingBudget: { maxWork: 1e12, maxModelNodes: 5000 } });
    const { dataset: ds } = await seed(store, false);
    const over = await app.inject({
      method: 'POST',
      url: '/api/v1/detectors',
      headers: auth,
      payload: { name: 'big', datasetId: ds.id, algorithm: 'isolation_forest', parameters: { nEstimators: 1000 } },
    });
    expect(over.statusCode).toBe(422);
    expect(over.json()).toMatchObject({ code: 'training_budget_exceeded' });
    expect(over.json().message).toMatch(/TRAINING_MAX_MODEL_NODES is 5000/);
    const within = await app.inject({
      method: 'POST',
      url: '/api/v1/detectors',
      headers: auth,
      payload: { name: 'small', datasetId: ds.id, algorithm: 'isolation_forest', parameters: { nEstimators: 10 } },
    });
    expect(within.statusCode).toBe(201);
    await app.close();
  });

  it('checks again when training is requested (the budget may have been lowered since)', async () => {
    const { app, store } = await testApp({ trainingBudget: { maxWork: 10, maxModelNodes: 1e9 } });
    const { detector: det } = await seed(store, false);
    const res = await app.inject({ method: 'POST', url: `/api/v1/detectors/${det.id}/train`, headers: auth });
    expect(res.statusCode).toBe(422);
    expect(res.json().message).toMatch(/TRAINING_MAX_WORK is 10;/);
    await app.close();
  });
});
