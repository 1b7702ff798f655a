import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './process.js';

const execFileAsync = promisify(execFile);

/** The PostgreSQL server binaries of this machine (Debian's layout), or null. */
export function postgresBinDir(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  for (const version of readdirSync(root).sort().reverse()) {
    const bin = join(root, version, 'bin');
    if (existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'pg_ctl'))) return bin;
  }
  return null;
}

/**
 * A PostgreSQL server of the test's own, in a temporary folder on a free port of 127.0.0.1, that
 * the test may restart or crash without disturbing anything else. PostgreSQL refuses to run as
 * root, so under root its commands run as the `postgres` user.
 */
export class PrivatePostgres {
  private constructor(
    private readonly bin: string,
    private readonly dir: string,
    readonly port: number,
  ) {}

  static async create(bin: string): Promise<PrivatePostgres> {
    const dir = mkdtempSync(join(tmpdir(), 'sfa-pg-'));
    const port = await freePort();
    const server = new PrivatePostgres(bin, dir, port);
    if (process.getuid?.() === 0) chownSync(dir, uidOf('postgres'), gidOf('postgres'));
    await server.run('initdb', [
      '-D',
      server.data,
      '-A',
      'trust',
      '-U',
      'postgres',
      '--no-sync',
      '-E',
      'UTF8',
    ]);
    writeFileSync(
      join(server.data, 'postgresql.auto.conf'),
      `listen_addresses = '127.0.0.1'\nport = ${port}\nunix_socket_directories = '${dir}'\n`,
    );
    await server.ctl('start');
    return server;
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  private get data(): string {
    return join(this.dir, 'data');
  }

  /** `pg_ctl restart -m fast`: sessions are ended (57P01), connections refused until it is back. */
  restart(): Promise<void> {
    return this.ctl('restart', ['-m', 'fast']);
  }

  /** `pg_ctl stop -m immediate`: what a crash looks like; the next start runs crash recovery. */
  crash(): Promise<void> {
    return this.ctl('stop', ['-m', 'immediate']);
  }

  start(): Promise<void> {
    return this.ctl('start');
  }

  async destroy(): Promise<void> {
    try {
      await this.ctl('stop', ['-m', 'immediate']);
    } catch {
      // already stopped
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Asynchronous, so the application under test keeps running while PostgreSQL goes and comes. */
  private ctl(action: string, extra: string[] = []): Promise<void> {
    return this.run('pg_ctl', [
      '-D',
      this.data,
      '-l',
      join(this.dir, 'log'),
      '-w',
      '-t',
      '30',
      action,
      ...extra,
    ]);
  }

  private async run(tool: string, args: string[]): Promise<void> {
    const path = join(this.bin, tool);
    if (process.getuid?.() === 0) await execFileAsync('runuser', ['-u', 'postgres', '--', path, ...args]);
    else await execFileAsync(path, args);
  }
}

function uidOf(user: string): number {
  return Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
}

function gidOf(user: string): number {
  return Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
}
