import type { FastifyInstance } from 'fastify';
import type { CustomerContext } from '../../accounts/context.js';
import { deactivateUser } from '../../accounts/deactivate-user.js';
import { deleteUser } from '../../accounts/delete-user.js';
import { getUserDetail } from '../../accounts/get-user.js';
import { type UserUpdate, updateUserDetail } from '../../accounts/update-user.js';
import { ok } from '../../http/envelope.js';
import type { Services } from '../../http/services.js';
import { bearerToken, STORE_PREFIX, tenantOf } from '../../http/tenant.js';
import { routeSchema } from '../../openapi/document.js';
import { accountView } from './user-view.js';

type Params = { store_id: string; id: string };

/**
 * GET, PUT, DELETE /auth/user/{id} and PUT /auth/user/{id}/deactivate: the caller's own user only.
 * Registered in a scope that accepts any body type, so PUT's JSON is parsed here by hand.
 */
export function registerUser(app: FastifyInstance, services: Services, ctx: CustomerContext): void {
  const path = `${STORE_PREFIX}/auth/user/:id`;
  app.get<{ Params: Params }>(path, { schema: routeSchema('get-user-detail') }, async (request) => {
    const tenant = await tenantOf(services, request);
    const account = await getUserDetail(ctx, tenant, bearerToken(request), request.params.id);
    return ok('User details retrieved successfully', { user: accountView(account, request) });
  });
  app.delete<{ Params: Params }>(path, { schema: routeSchema('delete-user') }, async (request) => {
    const tenant = await tenantOf(services, request);
    await deleteUser(ctx, tenant, bearerToken(request), request.params.id);
    return { message: 'User deleted successfully', success: true };
  });
  app.put<{ Params: Params }>(
    `${path}/deactivate`,
    { schema: routeSchema('deactivate-user') },
    async (request) => {
      const tenant = await tenantOf(services, request);
      await deactivateUser(ctx, tenant, bearerToken(request), request.params.id);
      return { message: 'User deactivated successfully', success: true };
    },
  );
}

/** PUT /auth/user/{id}, with the ordinary JSON body parser. */
export function registerUpdateUser(app: FastifyInstance, services: Services, ctx: CustomerContext): void {
  app.put<{ Params: Params; Body: UserUpdate }>(
    `${STORE_PREFIX}/auth/user/:id`,
    { schema: routeSchema('update-user') },
    async (request) => {
      const tenant = await tenantOf(services, request);
      const account = await updateUserDetail(
        ctx,
        tenant,
        bearerToken(request),
        request.params.id,
        request.body,
      );
      return ok('User updated successfully', { user: accountView(account, request) });
    },
  );
}
