// Compiled by types.test.ts with tsc; vitest never runs this file. Each expectation fails the
// compile when the public surface drifts, and each @ts-expect-error fails it when misuse compiles.
import { expectTypeOf } from 'vitest';
import {
  type ApiError,
  type ApiResult,
  createStorefrontSDK,
  type ErrorCode,
  type SessionEndReason,
  type TokenStorage,
} from '../../src/index.js';

const sdk = createStorefrontSDK({ baseUrl: 'https://shop.example/api/v1/demo/storefront' });

type RefreshResult = Awaited<ReturnType<typeof sdk.auth.refreshToken>>;
expectTypeOf<RefreshResult>().toEqualTypeOf<ApiResult<{ access_token: string; refresh_token: string }>>();
expectTypeOf(sdk.auth.refreshToken).parameter(0).toEqualTypeOf<{ refresh_token: string }>();

declare const result: RefreshResult;
// The seed's narrowing: after `if (error)`, data is the pair, not null.
if (result.error) {
  expectTypeOf(result.data).toBeNull();
  expectTypeOf(result.error.message).toBeString();
  expectTypeOf(result.error).toEqualTypeOf<ApiError>();
} else {
  expectTypeOf(result.data.access_token).toBeString();
  expectTypeOf(result.data.refresh_token).toBeString();
  expectTypeOf(result.error).toBeNull();
}
expectTypeOf(result.response).toEqualTypeOf<Response>();

type Anonymous = Awaited<ReturnType<typeof sdk.auth.getAnonymousToken>>;
declare const anon: Anonymous;
if (!anon.error) {
  expectTypeOf(anon.data.user.id).toBeString();
  expectTypeOf(anon.data.user.is_anonymous).toBeBoolean();
  expectTypeOf(anon.data.user.email).toEqualTypeOf<string | null>();
}

expectTypeOf<'NETWORK_ERROR'>().toExtend<ErrorCode>();
expectTypeOf<'REFRESH_TOKEN_REUSED'>().toExtend<SessionEndReason>();
expectTypeOf<SessionEndReason>().toExtend<ErrorCode>();

expectTypeOf<TokenStorage['getTokens']>().returns.toEqualTypeOf<
  Promise<{ access_token: string; refresh_token: string } | null>
>();

createStorefrontSDK({
  baseUrl: 'https://x',
  onSessionEnded: (reason) => {
    expectTypeOf(reason).toEqualTypeOf<SessionEndReason>();
  },
});

// @ts-expect-error refresh_token is required
void sdk.auth.refreshToken({});
// @ts-expect-error refresh_token is a string
void sdk.auth.refreshToken({ refresh_token: 1 });
// @ts-expect-error baseUrl is required
createStorefrontSDK({});
