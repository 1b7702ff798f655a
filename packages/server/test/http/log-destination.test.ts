import { spawnSync } from 'node:child_process';
import fs, { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { batchedStdout, LOG_BATCH_BYTES } from '../../src/http/log-destination.js';

const lines = (n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => `${JSON.stringify({ msg: 'request', n: from + i })}\n`);

describe('the batched log destination', () => {
  let dir: string;
  let file: string;
  let fd: number;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sfa-log-'));
    file = join(dir, 'out.log');
    fd = openSync(file, 'w');
  });
  afterEach(() => {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  });

  it('holds a few lines back, then writes every one of them in order without another write', async () => {
    const log = batchedStdout(fd);
    const written = lines(3);
    for (const line of written) log.write(line);
    // Below the batch size nothing is written at once: that is the saving.
    expect(readFileSync(file, 'utf8')).toBe('');
    await vi.waitFor(() => expect(readFileSync(file, 'utf8')).toBe(written.join('')), {
      timeout: 20_000,
      interval: 20,
    });
  });

  it('writes many batches completely and in order', async () => {
    const log = batchedStdout(fd);
    const written = lines(Math.ceil((LOG_BATCH_BYTES * 5) / 24));
    for (const line of written) log.write(line);
    await vi.waitFor(() => expect(readFileSync(file, 'utf8')).toBe(written.join('')), {
      timeout: 20_000,
      interval: 20,
    });
  });

  // Nothing is ever in flight: every batch is written before write() returns, never handed to the
  // thread pool, so no later write (a flushSync, the flush at exit) can overtake one and put the
  // log out of order.
  it('writes every batch synchronously, in order', async () => {
    const asyncWrites = vi.spyOn(fs, 'write');
    try {
      const log = batchedStdout(fd);
      const written = lines(Math.ceil((LOG_BATCH_BYTES * 3) / 24));
      for (const line of written) log.write(line);
      expect(readFileSync(file, 'utf8').length).toBeGreaterThanOrEqual(LOG_BATCH_BYTES * 2);
      log.flushSync();
      expect(readFileSync(file, 'utf8')).toBe(written.join(''));
      const more = lines(3, written.length);
      for (const line of more) log.write(line);
      await vi.waitFor(() => expect(readFileSync(file, 'utf8')).toBe([...written, ...more].join('')), {
        timeout: 20_000,
        interval: 20,
      });
      expect(asyncWrites).not.toHaveBeenCalled();
    } finally {
      asyncWrites.mockRestore();
    }
  });

  it('writes what is waiting at once on flushSync', () => {
    const log = batchedStdout(fd);
    const written = lines(2);
    for (const line of written) log.write(line);
    log.flushSync();
    expect(readFileSync(file, 'utf8')).toBe(written.join(''));
  });

  it('loses no line when the process exits right after logging', () => {
    const module = fileURLToPath(new URL('../../dist/http/log-destination.js', import.meta.url));
    const script = `
      const { batchedStdout } = await import(${JSON.stringify(module)});
      const log = batchedStdout();
      for (let i = 0; i < 1000; i++) log.write(JSON.stringify({ n: i }) + '\\n');
      process.exit(0);
    `;
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.status).toBe(0);
    const got = result.stdout.trim().split('\n');
    expect(got).toHaveLength(1000);
    expect(got.map((l) => JSON.parse(l).n)).toEqual([...Array(1000).keys()]);
  });
});
