#!/usr/bin/env node
// `npm run example`: the Next.js storefront example (examples/next-storefront) with its auth server.
//
//   node scripts/example.mjs          builds the app (next build), then starts both
//   node scripts/example.mjs build    only builds the app
//   node scripts/example.mjs start    only starts (the app must be built)
//
// Starting runs the auth server in development mode on SQLite (data/example/, OTP_DEBUG=true so
// the one-time passwords appear on the page; no email is sent), waits for it, then the app with
// `next start` on http://127.0.0.1:3000 (PORT sets the app's port). With AUTH_URL set, no auth server is started and
// the app uses that one. AUTH_PORT (8080), DATABASE_URL and API_KEY change the auth server's.
// Stops both on Ctrl-C; when either exits, so does the other.
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const app = join(root, 'examples/next-storefront');
const nextBin = join(root, 'node_modules/next/dist/bin/next');
const mode = process.argv[2] ?? 'all';
if (!['all', 'build', 'start'].includes(mode)) {
  process.stderr.write('usage: node scripts/example.mjs [build|start]\n');
  process.exit(2);
}
const env = { ...process.env, NEXT_TELEMETRY_DISABLED: '1' };

if (mode !== 'start') {
  process.stderr.write('example: building the Next.js app (next build)\n');
  execFileSync(process.execPath, [nextBin, 'build'], {
    cwd: app,
    env: { ...env, NODE_ENV: 'production' },
    stdio: 'inherit',
  });
}

if (mode !== 'build') {
  const apiKey = env.API_KEY ?? 'dev-key-change-me-please';
  const children = [];
  const stopAll = (code) => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
    process.exitCode = code;
  };
  process.on('SIGINT', () => stopAll(0));
  process.on('SIGTERM', () => stopAll(0));
  const run = (name, args, options) => {
    const child = spawn(process.execPath, args, { stdio: 'inherit', ...options });
    child.on('exit', (code) => {
      process.stderr.write(`example: ${name} exited (${code ?? 'signal'})\n`);
      stopAll(code ?? 0);
    });
    children.push(child);
    return child;
  };

  let authUrl = env.AUTH_URL;
  if (!authUrl) {
    const authPort = env.AUTH_PORT ?? '8080';
    authUrl = `http://127.0.0.1:${authPort}/api/v1/demo/storefront`;
    run('auth server', [join(root, 'scripts/start.mjs')], {
      cwd: root,
      env: {
        ...env,
        NODE_ENV: 'development',
        OTP_DEBUG: 'true',
        API_KEY: apiKey,
        PORT: authPort,
        HOST: '127.0.0.1',
        DATABASE_URL: env.DATABASE_URL ?? `sqlite:${join(root, 'data/example/storefront-auth.db')}`,
      },
    });
    const health = `http://127.0.0.1:${authPort}/healthz`;
    for (let up = false; !up && process.exitCode === undefined; ) {
      up = await fetch(health).then(
        (r) => r.ok,
        () => false,
      );
      if (!up) await new Promise((r) => setTimeout(r, 200));
    }
  }
  if (process.exitCode === undefined) {
    const port = env.PORT ?? '3000';
    run('next app', [nextBin, 'start', '-p', port, '-H', '127.0.0.1'], {
      cwd: app,
      env: {
        ...env,
        NODE_ENV: 'production',
        AUTH_URL: authUrl,
        API_KEY: apiKey,
        // Plain http on 127.0.0.1: the cookies could not travel with Secure. Behind HTTPS, leave it out.
        INSECURE_COOKIES: '1',
        OTP_DEBUG: env.AUTH_URL ? (env.OTP_DEBUG ?? 'false') : 'true',
      },
    });
    process.stderr.write(`example: open http://127.0.0.1:${port}/ (in two tabs)\n`);
  }
}
