/**
 * Profile images over real HTTP on 127.0.0.1, against any backend: `makeApp` builds the app on
 * SQLite or PostgreSQL. What is stored is read back through the Database contract, so "nothing
 * stored" is checked on the backend itself.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { purge } from '../../src/operations/purge.js';
import { BASE, type TestApp } from '../helpers/app.js';
import { anonymousPair, registerCustomer } from '../helpers/customers.js';
import { HTML, IMAGES, imageForm, pngOfSize, SVG } from '../helpers/images.js';
import { expectMatchesSpec } from '../helpers/openapi.js';

/** The limit these suites run with: small, so an oversized file is cheap to send. */
export const TEST_IMAGE_LIMIT = 4096;

/** SQL that counts image rows whose user is gone, run on the backend by the caller. */
export const ORPHANED_IMAGES =
  'SELECT count(*) AS n FROM profile_images p WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = p.user_id)';

export function describeProfileImages(
  title: string,
  makeApp: (env: Record<string, string>) => Promise<TestApp>,
  orphanedImages: (t: TestApp) => Promise<number>,
) {
  describe(title, () => {
    let t: TestApp;
    let origin: string;
    beforeEach(async () => {
      t = await makeApp({ OTP_DEBUG: 'true', PROFILE_IMAGE_MAX_BYTES: String(TEST_IMAGE_LIMIT) });
      origin = await t.app.listen({ port: 0, host: '127.0.0.1' });
    });
    afterEach(async () => {
      await t.close();
    });

    async function send(
      method: 'GET' | 'POST' | 'PUT' | 'DELETE',
      path: string,
      opts: { bearer?: string; body?: BodyInit; headers?: Record<string, string> } = {},
    ) {
      const headers: Record<string, string> = { ...opts.headers };
      if (opts.bearer) headers['authorization'] = `Bearer ${opts.bearer}`;
      const res = await fetch(`${origin}${BASE}${path}`, {
        method,
        headers,
        ...(opts.body ? { body: opts.body } : {}),
      });
      return { res, body: (await res.json()) as any };
    }

    const imagePath = (id: string) => `/auth/user/${id}/profile-image`;
    const upload = (method: 'POST' | 'PUT', id: string, bearer: string, body: BodyInit) =>
      send(method, imagePath(id), { bearer, body });
    const stored = (id: string) => t.db.getProfileImage(id);

    it('upload, fetch (bytes and headers), replace, delete: one stable URL, its ETag follows the bytes', async () => {
      const ada = await registerCustomer(t.app);
      const id = ada.user.id as string;
      expect(ada.user.profile_image_url).toBeNull();

      const added = await upload('POST', id, ada.access_token, imageForm(IMAGES['image/png']));
      expect(added.res.status, JSON.stringify(added.body)).toBe(200);
      expectMatchesSpec('add-profile-image', 200, added.body);
      const url = added.body.content.profile_image_url as string;
      expect(url).toBe(`${origin}${BASE}/profile-images/${id}`);

      const got = await send('GET', imagePath(id), { bearer: ada.access_token });
      expect(got.res.status).toBe(200);
      expectMatchesSpec('get-profile-image', 200, got.body);
      expect(got.body.content.profile_image_url).toBe(url);
      const detail = await send('GET', `/auth/user/${id}`, { bearer: ada.access_token });
      expect(detail.body.content.user.profile_image_url).toBe(url);

      const file = await fetch(url);
      expect(file.status).toBe(200);
      expect(new Uint8Array(await file.arrayBuffer())).toEqual(IMAGES['image/png']);
      expect(file.headers.get('content-type')).toBe('image/png');
      expect(file.headers.get('x-content-type-options')).toBe('nosniff');
      expect(file.headers.get('content-security-policy')).toBe("default-src 'none'; sandbox");
      expect(file.headers.get('cache-control')).toBe('public, no-cache');
      const etag = file.headers.get('etag');
      expect(etag).toMatch(/^"[A-Za-z0-9_-]{43}"$/);
      const revalidated = await fetch(url, { headers: { 'if-none-match': etag! } });
      expect(revalidated.status).toBe(304);
      expect(await revalidated.arrayBuffer()).toHaveProperty('byteLength', 0);

      const replaced = await upload(
        'PUT',
        id,
        ada.access_token,
        imageForm(IMAGES['image/jpeg'], 'me.jpg', 'image/jpeg'),
      );
      expect(replaced.res.status, JSON.stringify(replaced.body)).toBe(200);
      expectMatchesSpec('update-profile-image', 200, replaced.body);
      expect(replaced.body.content.profile_image_url).toBe(url);
      const after = await fetch(url, { headers: { 'if-none-match': etag! } });
      expect(after.status).toBe(200);
      expect(after.headers.get('content-type')).toBe('image/jpeg');
      expect(after.headers.get('etag')).not.toBe(etag);
      expect(new Uint8Array(await after.arrayBuffer())).toEqual(IMAGES['image/jpeg']);

      const removed = await send('DELETE', imagePath(id), { bearer: ada.access_token });
      expect(removed.res.status).toBe(200);
      expectMatchesSpec('remove-profile-image', 200, removed.body);
      expect(await stored(id)).toBeNull();
      const gone = await fetch(url);
      expect(gone.status).toBe(404);
      expect(await gone.json()).toMatchObject({ success: false, code: 'PROFILE_IMAGE_NOT_FOUND' });
      for (const [method, status] of [
        ['GET', 404],
        ['DELETE', 404],
      ] as const) {
        const again = await send(method, imagePath(id), { bearer: ada.access_token });
        expect(again.res.status).toBe(status);
        expect(again.body).toMatchObject({ success: false, code: 'PROFILE_IMAGE_NOT_FOUND' });
      }
      // Replacing needs an image to replace; adding does not.
      const put = await upload('PUT', id, ada.access_token, imageForm(IMAGES['image/gif']));
      expect(put.res.status).toBe(404);
      expect(put.body.code).toBe('PROFILE_IMAGE_NOT_FOUND');
      expect(await stored(id)).toBeNull();
    });

    it('decides the type from the bytes: PNG, JPEG, GIF and WebP whatever the name says', async () => {
      const ada = await registerCustomer(t.app);
      const id = ada.user.id as string;
      for (const [type, bytes] of Object.entries(IMAGES)) {
        const res = await upload(
          'POST',
          id,
          ada.access_token,
          imageForm(bytes, 'upload.bin', 'application/octet-stream'),
        );
        expect(res.res.status, type).toBe(200);
        expect((await stored(id))?.contentType).toBe(type);
        const file = await fetch(res.body.content.profile_image_url);
        expect(file.headers.get('content-type')).toBe(type);
      }
    });

    it('refuses, in the envelope and storing nothing: a wrong type, HTML named avatar.png, SVG, an oversized file, many parts, no multipart at all', async () => {
      const ada = await registerCustomer(t.app);
      const id = ada.user.id as string;
      const refusals: Array<[string, BodyInit | undefined, string, Record<string, string>?]> = [
        [
          'plain text',
          imageForm(new TextEncoder().encode('hello, not an image'), 'a.txt', 'text/plain'),
          'UNSUPPORTED_IMAGE_TYPE',
        ],
        ['HTML named avatar.png', imageForm(HTML, 'avatar.png', 'image/png'), 'UNSUPPORTED_IMAGE_TYPE'],
        ['SVG', imageForm(SVG, 'avatar.svg', 'image/svg+xml'), 'UNSUPPORTED_IMAGE_TYPE'],
        ['one byte over the limit', imageForm(pngOfSize(TEST_IMAGE_LIMIT + 1)), 'IMAGE_TOO_LARGE'],
        ['far over the limit', imageForm(pngOfSize(TEST_IMAGE_LIMIT * 64)), 'IMAGE_TOO_LARGE'],
        ['an empty file', imageForm(new Uint8Array(0)), 'BAD_REQUEST'],
      ];
      const manyParts = imageForm(IMAGES['image/png']);
      for (let i = 0; i < 200; i++) manyParts.append(`field${i}`, 'x');
      refusals.push(['200 parts', manyParts, 'BAD_REQUEST']);
      const twoFiles = imageForm(IMAGES['image/png']);
      twoFiles.append('image', new Blob([IMAGES['image/gif']]), 'second.gif');
      refusals.push(['two files', twoFiles, 'BAD_REQUEST']);
      const otherName = new FormData();
      otherName.append('avatar', new Blob([IMAGES['image/png']]), 'a.png');
      refusals.push(['a file not named image', otherName, 'BAD_REQUEST']);
      refusals.push([
        'a JSON body',
        JSON.stringify({ image: 'iVBORw0KGgo=' }),
        'BAD_REQUEST',
        { 'content-type': 'application/json' },
      ]);
      refusals.push(['no body', undefined, 'BAD_REQUEST']);

      for (const [what, body, code, headers] of refusals) {
        const res = await send('POST', imagePath(id), {
          bearer: ada.access_token,
          ...(body ? { body } : {}),
          ...(headers ? { headers } : {}),
        });
        expect(res.res.status, what).toBe(400);
        expect(res.body, what).toEqual({ message: expect.any(String), success: false, code });
        expectMatchesSpec('add-profile-image', 400, res.body);
        expect(await stored(id), what).toBeNull();
      }
      // With an image stored, a refused replacement leaves it as it was.
      expect((await upload('POST', id, ada.access_token, imageForm(IMAGES['image/gif']))).res.status).toBe(
        200,
      );
      const before = await stored(id);
      const refused = await upload('PUT', id, ada.access_token, imageForm(HTML, 'avatar.png', 'image/png'));
      expect(refused.body.code).toBe('UNSUPPORTED_IMAGE_TYPE');
      const tooBig = await upload('PUT', id, ada.access_token, imageForm(pngOfSize(TEST_IMAGE_LIMIT + 1)));
      expect(tooBig.body.code).toBe('IMAGE_TOO_LARGE');
      expect(await stored(id)).toEqual(before);
    });

    it("only the owner: another user's id, an anonymous token or none is refused, and nothing is stored for anyone", async () => {
      const ada = await registerCustomer(t.app, 'ada@example.com');
      const bob = await registerCustomer(t.app, 'bob@example.com');
      const adaId = ada.user.id as string;
      const bobId = bob.user.id as string;
      expect((await upload('POST', bobId, bob.access_token, imageForm(IMAGES['image/png']))).res.status).toBe(
        200,
      );
      const bobsImage = await stored(bobId);

      // add-profile-image declares no 404 in the contract: not-found answers 400 with its code.
      const add = await upload('POST', bobId, ada.access_token, imageForm(IMAGES['image/gif']));
      expect([add.res.status, add.body.code]).toEqual([400, 'USER_NOT_FOUND']);
      for (const method of ['PUT', 'GET', 'DELETE'] as const) {
        const res = await send(method, imagePath(bobId), {
          bearer: ada.access_token,
          ...(method === 'PUT' ? { body: imageForm(IMAGES['image/gif']) } : {}),
        });
        expect([res.res.status, res.body.code], method).toEqual([404, 'USER_NOT_FOUND']);
      }
      const anon = await anonymousPair(t.app);
      for (const bearer of [anon.access_token, undefined]) {
        const res = await send('POST', imagePath(adaId), {
          ...(bearer ? { bearer } : {}),
          body: imageForm(IMAGES['image/png']),
        });
        expect([res.res.status, res.body.code]).toEqual([401, 'UNAUTHORIZED']);
      }
      expect(await stored(bobId)).toEqual(bobsImage);
      expect(await stored(adaId)).toBeNull();
      expect(await stored(anon.user.id)).toBeNull();
    });

    it("deleting the user deletes the image; a purge afterwards keeps a live customer's image and leaves none orphaned", async () => {
      const ada = await registerCustomer(t.app, 'ada@example.com');
      const bob = await registerCustomer(t.app, 'bob@example.com');
      for (const c of [ada, bob]) {
        expect(
          (await upload('POST', c.user.id, c.access_token, imageForm(IMAGES['image/webp']))).res.status,
        ).toBe(200);
      }
      const url = `${origin}${BASE}/profile-images/${ada.user.id}`;
      expect(
        (await send('DELETE', `/auth/user/${ada.user.id}`, { bearer: ada.access_token })).res.status,
      ).toBe(200);
      expect(await stored(ada.user.id)).toBeNull();
      expect((await fetch(url)).status).toBe(404);

      t.clock.advance(400 * 86400);
      await purge(t.db.operator(), { now: t.clock.now(), anonymousIdleMs: 3600_000 });
      expect(await stored(ada.user.id)).toBeNull();
      expect((await stored(bob.user.id))?.contentType).toBe('image/webp');
      expect(await orphanedImages(t)).toBe(0);
    });

    it("another store's URL for the user finds nothing", async () => {
      const ada = await registerCustomer(t.app);
      expect(
        (await upload('POST', ada.user.id, ada.access_token, imageForm(IMAGES['image/png']))).res.status,
      ).toBe(200);
      const res = await fetch(`${origin}/api/v1/elsewhere/storefront/profile-images/${ada.user.id}`);
      expect(res.status).toBe(404);
      expect((await res.json()).success).toBe(false);
    });
  });
}
