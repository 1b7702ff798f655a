import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The built server (`npm test` builds it first). */
export const SERVER_ENTRY = join(dirname(fileURLToPath(import.meta.url)), '../../dist/main.js');
/** The operators' CLI, built. */
export const CLI_ENTRY = join(dirname(fileURLToPath(import.meta.url)), '../../dist/cli/main.js');

export interface ServerProcess {
  name: string;
  child: ChildProcess;
  /** `http://127.0.0.1:<port>` */
  base: string;
  /** Every line the process wrote, stdout and stderr. */
  output: string[];
  /** SIGTERM and wait for the exit (or SIGKILL after a few seconds). */
  stop(): Promise<void>;
}

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
 * listens. The environment is the given one on top of a minimal base (no TEST_* leaking in).
 */
export function startServer(name: string, env: Record<string, string>): Promise<ServerProcess> {
  if (!existsSync(SERVER_ENTRY)) throw new Error(`${SERVER_ENTRY} is missing: run "npm run build" first`);
  const child = spawn(process.execPath, [SERVER_ENTRY], {
    env: { PATH: process.env['PATH'] ?? '', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  spawned.add(child);
  child.once('exit', () => spawned.delete(child));
  const output: string[] = [];
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not start within 20 s:\n${output.join('\n')}`));
    }, 20_000);
    const onLine = (line: string) => {
      output.push(line);
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(line);
      if (!match) return;
      clearTimeout(timer);
      resolve({
        name,
        child,
        base: match[1]!,
        output,
        async stop() {
          if (child.exitCode !== null || child.signalCode !== null) return;
          child.kill('SIGTERM');
          const force = setTimeout(() => child.kill('SIGKILL'), 5000);
          await exited;
          clearTimeout(force);
        },
      });
    };
    for (const stream of [child.stdout, child.stderr]) {
      let buffered = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
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
      reject(new Error(`${name} exited (${code ?? signal}) before listening:\n${output.join('\n')}`));
    });
  });
}
