import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { findOperation, openapiDocument, routeSchema } from '../src/openapi/document.js';
import { makeTestApp } from './helpers/app.js';

/** The OpenAPI operation printed in the seed page, parsed from its "OpenAPI Definition" block. */
function seedOperation(): Record<string, unknown> {
  const seed = readFileSync(
    new URL('../../../../shared/reference/seed-refresh-token.txt', import.meta.url),
    'utf8',
  );
  const start = seed.indexOf('{', seed.indexOf('OpenAPI Definition'));
  const end = seed.lastIndexOf('}') + 1;
  return JSON.parse(seed.slice(start, end));
}

describe('openapi.json', () => {
  it('has the seed refresh-token operation field for field', () => {
    const { path, method, operation } = findOperation('refresh-token');
    expect(path).toBe('/auth/refresh-token');
    expect(method).toBe('post');
    expect(operation).toEqual(seedOperation());
  });

  it('defines BadRequest and NotFound as the contract does', () => {
    const responses = openapiDocument.components['responses'] as Record<string, any>;
    const badRequest = responses['BadRequest'].content['application/json'].schema;
    expect(badRequest.required).toEqual(['message', 'success', 'code']);
    expect(Object.keys(badRequest.properties)).toEqual(['message', 'success', 'code', 'errors']);
    const notFound = responses['NotFound'].content['application/json'].schema;
    expect(Object.keys(notFound.properties)).toEqual(['message', 'success', 'code']);
  });

  it('drives the route schemas (body and every documented response)', () => {
    const schema = routeSchema('refresh-token') as { body: any; response: Record<string, unknown> };
    expect(schema.body.required).toEqual(['refresh_token']);
    expect(Object.keys(schema.response).sort()).toEqual(['200', '400', '404']);
  });

  it('is served as-is at /openapi.json', async () => {
    const t = await makeTestApp();
    try {
      const res = await t.app.inject({ method: 'GET', url: '/openapi.json' });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual(openapiDocument);
    } finally {
      await t.close();
    }
  });
});
