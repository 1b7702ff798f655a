import type { components, operations } from './generated/openapi.js';

type JsonOf<R> = R extends { content: { 'application/json': infer B } } ? B : never;

/** Body of `sdk.auth.refreshToken()`, from the OpenAPI document. */
export type RefreshTokenBody = operations['refresh-token']['requestBody']['content']['application/json'];
/** `data` of `sdk.auth.refreshToken()`: the unwrapped `content`. */
export type RefreshTokenContent = JsonOf<operations['refresh-token']['responses'][200]>['content'];
/** `data` of `sdk.auth.getAnonymousToken()`. */
export type AnonymousTokenContent = JsonOf<operations['get-anonymous-token']['responses'][200]>['content'];
export type AnonymousUser = components['schemas']['AnonymousUser'];
/** A customer (or, after logout, the new anonymous user), from the OpenAPI document. */
export type User = components['schemas']['User'];
/** `data` of the operations that send a code. */
export type OtpContent = components['schemas']['OtpContent'];
/** Body of `sdk.auth.updateUserDetails()`. */
export type UserUpdate = components['schemas']['UserUpdate'];
/** The server's error envelope, as the OpenAPI document describes it. */
export type ServerErrorBody = JsonOf<components['responses']['BadRequest']>;
export type { components, operations, paths } from './generated/openapi.js';
