import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeWithPostgres, freshSchema } from '../helpers/postgres.js';
import { freePort } from '../helpers/process.js';

/**
 * The Dockerfile, performed without a container engine: each stage is a folder standing for its
 * filesystem, COPY copies from the build context (the repository) or from an earlier stage's
 * folder, RUN runs in the stage's WORKDIR with the stage's ENV, and the final stage's CMD is started
 * with the image's environment on PostgreSQL. What cannot run here (the base images themselves,
 * ownership of /data, the user switch) is checked as text instead. Any instruction this file does
 * not know fails the test, so the Dockerfile cannot drift from what is tested.
 */
const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const DOCKERFILE = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');

interface Instruction {
  op: string;
  args: string;
}

function instructions(text: string): Instruction[] {
  const logical = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  return logical.map((line) => {
    const [op, ...rest] = line.split(/\s+/);
    return { op: op!.toUpperCase(), args: rest.join(' ') };
  });
}

/** `K=V K2="V 2"` pairs of an ENV instruction. */
function envPairs(args: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of args.matchAll(/(\w+)=("([^"]*)"|\S*)/g)) out[m[1]!] = m[3] ?? m[2]!;
  return out;
}

interface Stage {
  name: string;
  image: string;
  root: string;
  workdir: string;
  env: Record<string, string>;
  user?: string;
  cmd?: string[];
  healthcheck?: string;
  volumes: string[];
}

/** The environment a RUN gets here: the stage's ENV over what npm and node-gyp need from ours. */
function runEnv(stage: Stage): NodeJS.ProcessEnv {
  const passed: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (
      /^(PATH|HOME|TMPDIR|npm_config_.*)$/i.test(k) &&
      !/^npm_config_(omit|include|global|prefix)$/i.test(k)
    )
      passed[k] = v;
  // The tarballs are in npm's cache since the checkout's own `npm ci`. Only the npm registry is
  // reachable here, so better-sqlite3 compiles at once instead of first asking GitHub for a
  // prebuilt binary (which a real `docker build` may well get).
  return {
    ...passed,
    npm_config_prefer_offline: 'true',
    npm_config_update_notifier: 'false',
    npm_config_build_from_source: 'true',
    ...stage.env,
  };
}

function perform(dir: string): Stage[] {
  const stages: Stage[] = [];
  const inStage = (stage: Stage, path: string) =>
    path.startsWith('/') ? join(stage.root, path) : join(stage.root, stage.workdir, path);
  for (const { op, args } of instructions(DOCKERFILE)) {
    const stage = stages.at(-1);
    if (op === 'FROM') {
      const [image, as, name] = args.split(/\s+/);
      const s: Stage = {
        name: as?.toUpperCase() === 'AS' ? name! : String(stages.length),
        image: image!,
        root: join(dir, `stage-${stages.length}`),
        workdir: '/',
        env: {},
        volumes: [],
      };
      mkdirSync(s.root, { recursive: true });
      stages.push(s);
      continue;
    }
    if (!stage) throw new Error(`${op} before FROM`);
    switch (op) {
      case 'WORKDIR':
        stage.workdir = args;
        mkdirSync(inStage(stage, '.'), { recursive: true });
        break;
      case 'ENV':
        Object.assign(stage.env, envPairs(args));
        break;
      case 'COPY': {
        const words = args.split(/\s+/);
        const from = words[0]!.startsWith('--from=') ? words.shift()!.slice('--from='.length) : undefined;
        const dest = words.pop()!;
        const source = from ? stages.find((s) => s.name === from) : undefined;
        if (from && !source) throw new Error(`COPY --from=${from}: no such stage`);
        const target = inStage(stage, dest);
        for (const src of words) {
          const path = source ? join(source.root, src) : join(ROOT, src);
          if (!existsSync(path)) throw new Error(`COPY ${src}: missing`);
          // A destination ending in / (or several sources) is a folder that receives each by name.
          const to = dest.endsWith('/') || words.length > 1 ? join(target, src.split('/').pop()!) : target;
          mkdirSync(dirname(to), { recursive: true });
          cpSync(path, to, { recursive: true, verbatimSymlinks: true });
        }
        break;
      }
      case 'RUN': {
        if (args === 'mkdir -p /data && chown node:node /data') {
          // A folder for the volume, owned by the image's non-root user (no such user here).
          mkdirSync(inStage(stage, '/data'), { recursive: true });
          break;
        }
        const run = spawnSync('sh', ['-c', args], {
          cwd: inStage(stage, '.'),
          env: runEnv(stage),
          encoding: 'utf8',
          timeout: 15 * 60_000,
        });
        if (run.status !== 0)
          throw new Error(`RUN ${args} (stage ${stage.name}) failed:\n${run.stdout}\n${run.stderr}`);
        break;
      }
      case 'USER':
        stage.user = args;
        break;
      case 'VOLUME':
        stage.volumes.push(args);
        break;
      case 'EXPOSE':
        break;
      case 'HEALTHCHECK':
        stage.healthcheck = /\bCMD\s+(.*)$/.exec(args)?.[1];
        break;
      case 'CMD':
        stage.cmd = JSON.parse(args);
        break;
      default:
        throw new Error(`Dockerfile instruction ${op} is not performed by this test`);
    }
  }
  return stages;
}

const dir = mkdtempSync(join(tmpdir(), 'sfa-docker-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the Dockerfile, read', () => {
  const final = instructions(DOCKERFILE);
  it('is multi-stage, runs as a non-root user, with HOST=0.0.0.0, a /data volume and a health check on /readyz', () => {
    expect(final.filter((i) => i.op === 'FROM').length).toBeGreaterThanOrEqual(2);
    const last = final.slice(final.map((i) => i.op).lastIndexOf('FROM'));
    const user = last.find((i) => i.op === 'USER')?.args;
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    expect(
      envPairs(
        last
          .filter((i) => i.op === 'ENV')
          .map((i) => i.args)
          .join(' '),
      ),
    ).toMatchObject({
      HOST: '0.0.0.0',
      NODE_ENV: 'production',
    });
    expect(last.find((i) => i.op === 'VOLUME')?.args).toBe('/data');
    expect(last.find((i) => i.op === 'HEALTHCHECK')?.args).toMatch(/CMD .*\/readyz/);
    // Exec form, straight to node: SIGTERM reaches the server, not a shell or npm in between.
    const cmd = JSON.parse(last.find((i) => i.op === 'CMD')!.args) as string[];
    expect(cmd[0]).toBe('node');
    // The final image installs nothing: its dependencies come from the production-only stage.
    expect(last.filter((i) => i.op === 'RUN').map((i) => i.args)).toEqual([
      'mkdir -p /data && chown node:node /data',
    ]);
  });
});

describeWithPostgres('the Dockerfile, performed in a temporary folder', (url) => {
  let stages: Stage[];
  let db: Awaited<ReturnType<typeof freshSchema>>;
  let child: ChildProcess | undefined;

  beforeAll(() => {
    stages = perform(dir);
  }, 20 * 60_000);
  afterAll(async () => {
    child?.kill('SIGKILL');
    await db?.drop();
  });

  it('holds production dependencies only, the native module built, and the compiled server', () => {
    const app = join(stages.at(-1)!.root, stages.at(-1)!.workdir);
    for (const dep of ['fastify', 'pg', 'better-sqlite3', 'pino', 'prom-client'])
      expect(existsSync(join(app, 'node_modules', dep)), dep).toBe(true);
    expect(existsSync(join(app, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node'))).toBe(true);
    for (const dev of ['typescript', 'vitest', '@biomejs', 'fast-check', '@commercengine'])
      expect(existsSync(join(app, 'node_modules', dev)), dev).toBe(false);
    expect(existsSync(join(app, 'packages/server/dist/main.js'))).toBe(true);
    expect(existsSync(join(app, 'packages/server/src'))).toBe(false);
  });

  it('starts from that layout on PostgreSQL with the image environment, answers, and stops on SIGTERM', {
    timeout: 120_000,
  }, async () => {
    const final = stages.at(-1)!;
    db = await freshSchema(url, 'sfa_docker');
    const port = await freePort();
    const apiKey = 'docker-layout-key-0123456789';
    // The image's environment, and what compose.yaml adds on top (its database, a key encryption key).
    const env = {
      PATH: process.env['PATH'] ?? '',
      ...final.env,
      DATABASE_URL: db.url,
      KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      API_KEY: apiKey,
      PORT: String(port),
    };
    const [command, ...args] = final.cmd!;
    expect(command).toBe('node');
    child = spawn(process.execPath, args, {
      cwd: join(final.root, final.workdir),
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (c) => {
      out += c;
    });
    child.stderr!.on('data', (c) => {
      out += c;
    });
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));

    // The HEALTHCHECK's own command decides when it is up.
    const healthy = () =>
      spawnSync('sh', ['-c', final.healthcheck!], { env, encoding: 'utf8', timeout: 10_000 }).status === 0;
    const deadline = Date.now() + 60_000;
    while (!healthy()) {
      if (child.exitCode !== null) throw new Error(`the server exited ${child.exitCode}:\n${out}`);
      if (Date.now() > deadline) throw new Error(`never healthy:\n${out}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    // Healthy means listening; its log lines may still be on their way through the pipe.
    while (!/"msg":"store ready"/.test(out)) {
      if (Date.now() > deadline) throw new Error(`no "store ready" line:\n${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(out).toMatch(/Server listening at http:\/\/127\.0\.0\.1:\d+/);
    expect(out).not.toMatch(/WARNING/); // production, with a key encryption key: nothing to warn about

    const base = `http://127.0.0.1:${port}/api/v1/demo/storefront`;
    const anon = await fetch(`${base}/auth/anonymous`, { method: 'POST', headers: { 'x-api-key': apiKey } });
    expect(anon.status).toBe(200);
    const { refresh_token } = ((await anon.json()) as { content: { refresh_token: string } }).content;
    const refreshed = await fetch(`${base}/auth/refresh-token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refresh_token }),
    });
    expect(refreshed.status).toBe(200);

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out).toMatch(/"signal":"SIGTERM",.*"msg":"shutting down"/);
  });
});
