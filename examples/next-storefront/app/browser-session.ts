'use client';

import { cookieSession } from '@storefront-auth/sdk/react';

/**
 * This tab's view of the session: who the access cookie says holds it (the refresh token is
 * HttpOnly, out of every script's reach), and what other tabs of the site changed.
 */
export const browserSession = cookieSession();
