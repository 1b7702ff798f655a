import { Ajv2020 } from 'ajv/dist/2020.js';
import { expect } from 'vitest';
import { responseSchema } from '../../src/openapi/document.js';

const ajv = new Ajv2020({ strict: false, allErrors: true });
ajv.addFormat('date-time', { validate: (s: string) => !Number.isNaN(Date.parse(s)) });
const cache = new Map<string, ReturnType<typeof ajv.compile>>();

/** Asserts that a response body validates against the document's schema for that status (and media type). */
export function expectMatchesSpec(
  operationId: string,
  status: number,
  body: unknown,
  mediaType = 'application/json',
): void {
  const key = `${operationId}:${status}:${mediaType}`;
  let validate = cache.get(key);
  if (!validate) {
    const schema = responseSchema(operationId, status, mediaType);
    expect(schema, `openapi.json documents ${status} for ${operationId}`).toBeDefined();
    validate = ajv.compile(schema as object);
    cache.set(key, validate);
  }
  expect(validate(body), JSON.stringify(validate.errors)).toBe(true);
}
