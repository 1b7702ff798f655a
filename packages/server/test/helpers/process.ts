import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The built server (`npm test` builds it first). */
export const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
/** The operators' CLI, built. */
export const CLI_ENTRY = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

/** A TCP port free on 127.0.0.1 right now (for servers that need it named in advance). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

export interface ServerProcess {
  name: string;
  child: ChildProcess;
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** Everything the process wrote so far, stdout and stderr. */
  output: () => string;
  /** Sends `signal` (SIGKILL if it still runs 20 s later) and answers the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * How long a server may take to listen, and then to be ready: a bound for a hung start, not a
 * speed expectation (six node processes starting at once on a busy two-core machine are slow).
 */
const START_LIMIT = 90_000;

const spawned = new Set<ChildProcess>();

/** SIGKILLs every server this file started that is still running (for afterAll, whatever failed). */
export async function killAllServers(): Promise<void> {
  const waits = [...spawned].map(
    (child) =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  );
  await Promise.all(waits);
}

/**
 * Starts `node dist/main.js` on 127.0.0.1 with a port the system picks, and resolves once it
 * listens and /readyz answers 200. The environment is the given one on top of a minimal base (no
 * TEST_* leaking in); `name` names the server in errors.
 */
export async function startServer(env: Record<string, string>, name = 'server'): Promise<ServerProcess> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run "npm run build" first`);
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env['PATH'] ?? '', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  spawned.add(child);
  child.once('exit', () => spawned.delete(child));
  let out = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not start within ${START_LIMIT / 1000} s:\n${out}`));
    }, START_LIMIT);
    const onLine = (line: string) => {
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(line);
      if (!match) return;
      clearTimeout(timer);
      resolve(match[1]!);
    };
    for (const stream of [child.stdout, child.stderr]) {
      let buffered = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        out += chunk;
        buffered += chunk;
        let nl = buffered.indexOf('\n');
        while (nl !== -1) {
          onLine(buffered.slice(0, nl));
          buffered = buffered.slice(nl + 1);
          nl = buffered.indexOf('\n');
        }
      });
    }
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? signal}) before listening:\n${out}`));
    });
  });
  const deadline = Date.now() + START_LIMIT;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited ${child.exitCode}: ${out}`);
    try {
      if ((await probeStatus(`${url}/readyz`)) === 200) break;
    } catch {}
    if (Date.now() > deadline) throw new Error(`${name} not ready: ${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    name,
    child,
    url,
    output: () => out,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        const force = setTimeout(() => child.kill('SIGKILL'), 20_000);
        await exited;
        clearTimeout(force);
      }
      return child.exitCode;
    },
  };
}

/**
 * The status of a GET on a connection of its own, closed after the answer: a probe must not leave
 * an idle keep-alive connection behind for the server's shutdown drain to wait on.
 */
function probeStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', reject);
  });
}

/**
 * POST to a store route of a running server: with a body it is JSON (refresh-token), without one
 * it carries the API key (anonymous).
 */
export async function postToStore(url: string, apiKey: string, path: string, body?: object, store = 'demo') {
  const res = await fetch(`${url}/api/v1/${store}/storefront${path}`, {
    method: 'POST',
    headers: body ? { 'content-type': 'application/json' } : { 'x-api-key': apiKey },
    ...(body ? { body: JSON.stringify(body) } : {}),
    // A test never waits forever on a server that stopped answering.
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, body: await res.json() };
}

/**
 * A server process on a fresh SQLite file with `count` anonymous sessions open, for tests that
 * stop it (SIGTERM, SIGKILL) and start it again on the same file. No rate limits: the tests
 * refresh each session as fast as they can. `cleanup` removes the folder.
 */
export async function sqliteServerWithSessions(count: number, extraEnv: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'sfa-proc-'));
  const apiKey = 'process-test-key-0123456789';
  const env = {
    DATABASE_URL: `sqlite:${join(dir, 'auth.db')}`,
    API_KEY: apiKey,
    ANONYMOUS_RATE_LIMIT: '0',
    REFRESH_RATE_LIMIT: '0',
    REFRESH_IP_RATE_LIMIT: '0',
    ...extraEnv,
  };
  const post = (url: string, path: string, body?: object) => postToStore(url, apiKey, path, body);
  const server = await startServer(env);
  const tokens: string[] = [];
  for (let i = 0; i < count; i++)
    tokens.push((await post(server.url, '/auth/anonymous')).body.content.refresh_token);
  return {
    server,
    tokens,
    post,
    apiKey,
    dbFile: join(dir, 'auth.db'),
    restart: () => startServer(env),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
