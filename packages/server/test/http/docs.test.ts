import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findChromium, launchBrowser } from '../../../sdk/test/helpers/browser.js';
import { openapiDocument } from '../../src/openapi/document.js';
import { makeTestApp, type TestApp } from '../helpers/app.js';

const chromium = findChromium();

/** Every operation of the document, as Swagger UI names its block: `operations-<tag>-<operationId>`. */
const operations = Object.values(openapiDocument.paths).flatMap((item) =>
  Object.values(item).map((op) => {
    const operation = op as { operationId: string; tags?: string[] };
    return { id: operation.operationId, tag: operation.tags?.[0] ?? 'default' };
  }),
);

describe('GET /docs', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await makeTestApp({ LOG_LEVEL: 'silent' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('serves the page and its assets from this server, under a CSP that allows nothing remote', async () => {
    const page = await t.app.inject({ method: 'GET', url: '/docs' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(page.body).not.toMatch(/https?:\/\//);
    for (const src of page.body.matchAll(/(?:src|href)="([^"]+)"/g)) {
      const asset = await t.app.inject({ method: 'GET', url: src[1]! });
      expect(asset.statusCode, src[1]).toBe(200);
    }
    const missing = await t.app.inject({ method: 'GET', url: '/docs/__proto__' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ success: false });
    expect((await t.app.inject({ method: 'GET', url: '/docs/..%2Fpackage.json' })).statusCode).toBe(404);
  });

  it.skipIf(!chromium)(
    'renders every operation of /openapi.json in Chromium, with no request outside 127.0.0.1',
    async () => {
      await t.app.listen({ port: 0, host: '127.0.0.1' });
      const { port } = t.app.server.address() as AddressInfo;
      const browser = await launchBrowser(chromium!);
      try {
        const page = await browser.context.newPage();
        const outside: string[] = [];
        const loaded: string[] = [];
        // Every request the page makes, whatever its kind, is seen here before it leaves.
        await page.route('**/*', (route) => {
          const url = new URL(route.request().url());
          if (url.protocol === 'data:' || url.protocol === 'blob:' || url.hostname === '127.0.0.1') {
            loaded.push(url.pathname);
            return route.continue();
          }
          outside.push(url.href);
          return route.abort();
        });
        const violations: string[] = [];
        page.on('console', (message) => {
          if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
        });
        const answer = await page.goto(`http://127.0.0.1:${port}/docs`);
        expect(answer?.status()).toBe(200);
        for (const op of operations) {
          await page.locator(`#operations-${op.tag}-${op.id}`).waitFor({ state: 'attached' });
        }
        const rendered = await page
          .locator('.opblock')
          .evaluateAll((blocks) => blocks.map((b) => b.id).filter((id) => id.startsWith('operations-')));
        expect(new Set(rendered)).toEqual(new Set(operations.map((op) => `operations-${op.tag}-${op.id}`)));
        expect(loaded).toContain('/openapi.json');
        expect(outside).toEqual([]);
        expect(violations).toEqual([]);
      } finally {
        await browser.close();
      }
    },
  );
});
