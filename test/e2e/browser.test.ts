// The web UIs as a user sees them, in headless Chromium (Debian's package, installed by
// compose/local/bootstrap.sh) driven by puppeteer-core: Prometheus' query page draws a graph of a
// Pynomaly metric, its targets and alerts pages list ours, and the API's /docs (Swagger UI) calls
// an endpoint with an API key. Screenshots go to logs/test/screenshots/ (docs/screenshots/ with
// PYNOMALY_UPDATE_SCREENSHOTS=1, which is how the README's pictures are made).
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../compose/local/paths.js';
import { endpoints } from '../../compose/local/stack.js';
import { eventually } from '../support/stack-clients.js';

const e = endpoints('test');
const CHROMIUM = process.env.PYNOMALY_CHROMIUM ?? '/usr/bin/chromium';
const shots =
  process.env.PYNOMALY_UPDATE_SCREENSHOTS === '1'
    ? join(projectRoot, 'docs', 'screenshots')
    : join(projectRoot, 'logs', 'test', 'screenshots');
const QUERY = 'sum by (job) (pynomaly_build_info)';

let browser: Browser;
let page: Page;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run bash compose/local/bootstrap.sh --tests`);
  mkdirSync(shots, { recursive: true });
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Running as root (CI containers) needs --no-sandbox; the pages are our own, on 127.0.0.1.
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--window-size=1400,900'],
    defaultViewport: { width: 1400, height: 900 },
  });
  page = await browser.newPage();
  page.setDefaultTimeout(60_000);
});
afterAll(async () => browser?.close());

/** Waits until the page's visible text matches (the page is the browser's, so the check is a string). */
async function waitForText(pattern: RegExp, timeout = 60_000): Promise<void> {
  await page.waitForFunction(`${pattern.toString()}.test(document.body.innerText)`, { timeout });
}

async function bodyText(): Promise<string> {
  return page.evaluate('document.body.innerText') as Promise<string>;
}

describe('web UIs in a browser', () => {
  it('Prometheus: the query page runs a Pynomaly metric query and draws a graph', async () => {
    // A few samples, so the graph has a line to draw.
    await eventually(
      'four scrapes of pynomaly_build_info',
      async () => {
        const url = `${e.prometheusUrl}/api/v1/query?query=${encodeURIComponent('count_over_time(pynomaly_build_info[5m]) >= 4')}`;
        const body = (await (await fetch(url)).json()) as { data: { result: unknown[] } };
        return body.data.result.length > 0 ? true : undefined;
      },
      120_000,
    );
    // The last 5 minutes (the stack is new), then the query typed and run as a user would.
    await page.goto(`${e.prometheusUrl}/query?g0.expr=&g0.tab=graph&g0.range_input=5m`, { waitUntil: 'networkidle2' });
    const editor = await page.waitForSelector('.cm-content');
    await editor!.click();
    await page.keyboard.type(QUERY);
    await page.keyboard.press('Enter');
    await page.locator('button[role="tab"]::-p-text(Graph)').click();
    await page.waitForSelector('.uplot canvas');
    // The legend names the series the query returned: one per service's scrape job.
    await waitForText(/training-worker/);
    await page.screenshot({ path: join(shots, 'prometheus-query-graph.png') });
    expect(await bodyText()).toContain('job');
  });

  it("Prometheus: the targets page lists the stack's scrape jobs", async () => {
    await page.goto(`${e.prometheusUrl}/targets`, { waitUntil: 'networkidle2' });
    await waitForText(/otel-collector-exporter/);
    await page.screenshot({ path: join(shots, 'prometheus-targets.png') });
    const text = await bodyText();
    for (const job of ['api', 'training-worker', 'drift-worker', 'alertmanager']) expect(text).toContain(job);
  });

  it("Prometheus: the alerts page shows Pynomaly's alerting rules", async () => {
    await page.goto(`${e.prometheusUrl}/alerts`, { waitUntil: 'networkidle2' });
    await waitForText(/WorkerDown|ApiDown|ApiLatencySLOBreach/);
    await page.screenshot({ path: join(shots, 'prometheus-alerts.png') });
    expect(await bodyText()).toContain('pynomaly-api');
  });

  it("the API's /docs calls an endpoint with an API key", async () => {
    await page.goto(`${e.apiUrl}/docs`, { waitUntil: 'networkidle2' });
    await page.locator('.btn.authorize').click();
    await page.locator('.auth-container input').fill(e.apiKey);
    await page.locator('.auth-btn-wrapper .btn.modal-btn.auth.authorize').click();
    await page.locator('.btn-done, .close-modal').click();
    const op = '#operations-detectors-get_api_v1_detectors';
    await page.locator(`${op} .opblock-summary`).click();
    await page.locator(`${op} .try-out__btn`).click();
    await page.locator(`${op} .execute`).click();
    await page.waitForSelector(`${op} .live-responses-table tr.response .response-col_status`);
    const status = await page.$eval(`${op} .live-responses-table tr.response .response-col_status`, (el) =>
      el.textContent?.trim(),
    );
    const curl = await page.$eval(`${op} .curl-command`, (el) => el.textContent ?? '');
    await page.$eval(`${op} .live-responses-table`, (el) => el.scrollIntoView({ block: 'center' }));
    await page.screenshot({ path: join(shots, 'api-docs-try-it-out.png') });
    expect(status).toBe('200');
    // The key went with the request, from the Authorize dialog.
    expect(curl).toContain(`X-API-Key: ${e.apiKey}`);
  });
});
