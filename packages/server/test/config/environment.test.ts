import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('configuration', () => {
  it('has defaults that work on a laptop', () => {
    expect(loadConfig({})).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      // In the project's folder, whatever the working directory (the CLI run from packages/server).
      databaseUrl: `sqlite:${fileURLToPath(new URL('../../../../data/storefront-auth.db', import.meta.url))}`,
      storeId: 'demo',
      apiKey: undefined,
      accessTokenTtl: 900,
      refreshTokenTtl: 2592000,
      sessionMaxAge: 7776000,
      refreshReuseGrace: 30,
      logLevel: 'info',
    });
  });

  it('reads numbers and is frozen', () => {
    const config = loadConfig({ PORT: '9000', REFRESH_REUSE_GRACE: '0', DATABASE_URL: 'sqlite:/tmp/x.db' });
    expect(config.port).toBe(9000);
    expect(config.refreshReuseGrace).toBe(0);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['ACCESS_TOKEN_TTL', '-5'],
    ['REFRESH_REUSE_GRACE', '1.5'],
    ['DATABASE_URL', 'mysql://x'],
    ['STORE_ID', 'Not A Store'],
    ['LOG_LEVEL', 'loud'],
    ['KEY_RELOAD_INTERVAL', '0'],
    ['KEY_ENCRYPTION_KEY', 'not base64!'],
    ['KEY_ENCRYPTION_KEY', Buffer.alloc(16, 7).toString('base64')],
  ])('refuses %s=%s with a message naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrowError(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrowError(new RegExp(`\\b${name}\\b`));
  });

  it('never echoes a bad API_KEY', () => {
    const secret = 'short';
    try {
      loadConfig({ API_KEY: secret });
      expect.unreachable();
    } catch (error) {
      expect(String(error)).toMatch(/API_KEY/);
      expect(String(error)).not.toContain(`${secret}'`);
      expect(String(error)).not.toContain(`"${secret}"`);
    }
  });
});

describe('key encryption keys', () => {
  const kek = Buffer.alloc(32, 9).toString('base64');

  it('takes a 32-byte key, a previous one or `unencrypted`, and never echoes a bad one', () => {
    expect(loadConfig({ KEY_ENCRYPTION_KEY: kek })).toMatchObject({
      keyEncryptionKey: kek,
      keyEncryptionKeyPrevious: undefined,
      keyReloadInterval: 60,
    });
    expect(
      loadConfig({ KEY_ENCRYPTION_KEY: kek, KEY_ENCRYPTION_KEY_PREVIOUS: 'unencrypted' })
        .keyEncryptionKeyPrevious,
    ).toBe('unencrypted');
    const short = Buffer.alloc(31, 5).toString('base64');
    expect(() => loadConfig({ KEY_ENCRYPTION_KEY: kek, KEY_ENCRYPTION_KEY_PREVIOUS: short })).toThrowError(
      /KEY_ENCRYPTION_KEY_PREVIOUS must be 32 bytes/,
    );
    try {
      loadConfig({ KEY_ENCRYPTION_KEY: short });
      expect.unreachable();
    } catch (error) {
      expect(String(error)).toMatch(/KEY_ENCRYPTION_KEY must be 32 bytes/);
      expect(String(error)).not.toContain(short);
    }
  });

  it('refuses a previous key without a current one', () => {
    expect(() => loadConfig({ KEY_ENCRYPTION_KEY_PREVIOUS: kek })).toThrowError(
      /KEY_ENCRYPTION_KEY is required when KEY_ENCRYPTION_KEY_PREVIOUS is set/,
    );
  });
});

describe('the README launch contract', () => {
  it('documents every variable the server reads', async () => {
    const { readFileSync } = await import('node:fs');
    const { CONFIG_VARIABLES } = await import('../../src/config.js');
    const readme = readFileSync(new URL('../../../../README.md', import.meta.url), 'utf8');
    const contract = readme.slice(readme.indexOf('## Launch contract'), readme.indexOf('## The API'));
    for (const name of CONFIG_VARIABLES) expect(contract, name).toContain(`\`${name}\``);
  });
});
