import { afterEach, describe, expect, it } from 'vitest';
import { BASE, makeTestApp, sqliteDb, type TestApp } from '../helpers/app.js';
import { registerCustomer } from '../helpers/customers.js';
import { IMAGES, imageForm } from '../helpers/images.js';
import { adminQuery, describeWithPostgres } from '../helpers/postgres.js';
import { postgresTestApp } from './postgres-app.js';
import { describeProfileImages, ORPHANED_IMAGES } from './profile-image-suite.js';

describeProfileImages(
  'profile images on SQLite',
  (env) => makeTestApp(env),
  async (t) => Number((sqliteDb(t).prepare(ORPHANED_IMAGES).get() as { n: number }).n),
);

describeWithPostgres('profile images on PostgreSQL', (url) => {
  describeProfileImages(
    'the same suite',
    (env) => postgresTestApp(url, 'sfa_img', env),
    async (t: TestApp) => {
      const { schema } = t as TestApp & { schema: string };
      const sql = ORPHANED_IMAGES.replaceAll('FROM ', `FROM ${schema}.`);
      const [row] = await adminQuery<{ n: string }>(url, sql);
      return Number(row?.n);
    },
  );
});

describe('profile image URLs under PUBLIC_URL', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
  });

  it('start with PUBLIC_URL, not with the Host the request named, in every answer that carries one', async () => {
    t = await makeTestApp({ OTP_DEBUG: 'true', PUBLIC_URL: 'https://auth.example.com/edge/' });
    const ada = await registerCustomer(t.app);
    const id = ada.user.id as string;
    const headers = { authorization: `Bearer ${ada.access_token}`, host: 'attacker.example' };
    const form = imageForm(IMAGES['image/png']);
    const request = new Request('http://x/', { method: 'POST', body: form });
    const added = await t.app.inject({
      method: 'POST',
      url: `${BASE}/auth/user/${id}/profile-image`,
      headers: { ...headers, 'content-type': request.headers.get('content-type')! },
      payload: Buffer.from(await request.arrayBuffer()),
    });
    expect(added.statusCode, added.body).toBe(200);
    const url = `https://auth.example.com/edge${BASE}/profile-images/${id}`;
    expect(added.json().content.profile_image_url).toBe(url);
    const detail = await t.app.inject({ method: 'GET', url: `${BASE}/auth/user/${id}`, headers });
    expect(detail.json().content.user.profile_image_url).toBe(url);
  });
});
