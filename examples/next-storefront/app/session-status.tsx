'use client';

import { useSession } from '@storefront-auth/sdk/react';
import { useRouter } from 'next/navigation';
import { useEffect } from 'react';
import { browserSession } from './browser-session';

const LABELS = {
  loading: 'Checking your session…',
  none: 'No session',
  anonymous: 'Shopping as a guest',
  authenticated: 'Signed in',
} as const;

/**
 * Who holds the session, kept current by useSession. A change another tab made (a login, a
 * logout) re-renders this page's server components at once, without a reload.
 */
export function SessionStatus() {
  const router = useRouter();
  const { status, event } = useSession(browserSession);
  useEffect(
    () =>
      browserSession.onAuthStateChange((change) => {
        if (change.remote) router.refresh();
      }),
    [router],
  );
  return (
    <p id="status" data-status={status} data-event={event ?? ''}>
      {LABELS[status]}
    </p>
  );
}
