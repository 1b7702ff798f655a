'use client';

import { useState } from 'react';
import { type CodeSent, startLogin, startRegister, verifyCode } from './actions';
import { browserSession } from './browser-session';

type Pending = { action: 'register' | 'login'; otpToken: string; debugOtp: string | null };

/** Register or log in by a one-time password sent to the email: two server actions. */
export function SignIn() {
  const [pending, setPending] = useState<Pending | null>(null);
  const [error, setError] = useState<string | null>(null);

  const send =
    (action: Pending['action'], start: (formData: FormData) => Promise<CodeSent>) =>
    async (formData: FormData) => {
      const sent = await start(formData);
      if ('error' in sent) return setError(sent.error);
      setError(null);
      setPending({ action, ...sent });
    };

  const verify = async (formData: FormData) => {
    if (!pending) return;
    const done = await verifyCode(pending.otpToken, String(formData.get('otp') ?? ''), pending.action);
    if ('error' in done) return setError(done.error);
    // The action wrote the customer's cookies: tell this tab's and the other tabs' listeners.
    browserSession.sync();
  };

  return (
    <section>
      {error && (
        <p id="auth-error" role="alert">
          {error}
        </p>
      )}
      {pending ? (
        <form action={verify}>
          <h2>Enter the code we sent</h2>
          {pending.debugOtp && (
            <p>
              Development store: the code is <code id="debug-otp">{pending.debugOtp}</code>
            </p>
          )}
          <input id="otp" name="otp" inputMode="numeric" autoComplete="one-time-code" required />
          <button id="verify" type="submit">
            {pending.action === 'register' ? 'Create my account' : 'Log in'}
          </button>
        </form>
      ) : (
        <>
          <form action={send('register', startRegister)}>
            <h2>New here? Register</h2>
            <input id="register-name" name="first_name" placeholder="First name" required />
            <input id="register-email" name="email" type="email" placeholder="Email" required />
            <button id="register-send" type="submit">
              Send me a code
            </button>
          </form>
          <form action={send('login', startLogin)}>
            <h2>Have an account? Log in</h2>
            <input id="login-email" name="email" type="email" placeholder="Email" required />
            <button id="login-send" type="submit">
              Send me a code
            </button>
          </form>
        </>
      )}
    </section>
  );
}
