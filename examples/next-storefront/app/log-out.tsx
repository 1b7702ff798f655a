'use client';

import { useRouter } from 'next/navigation';
import { browserSession } from './browser-session';

/** Logs out through the route handler, which writes the fresh anonymous pair as cookies. */
export function LogOut() {
  const router = useRouter();
  const logOut = async () => {
    await fetch('/auth/logout', { method: 'POST' });
    browserSession.sync();
    router.refresh();
  };
  return (
    <button id="logout" type="button" onClick={logOut}>
      Log out
    </button>
  );
}
