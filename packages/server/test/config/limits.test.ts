import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, limitValuesOf, loadConfig } from '../../src/config.js';
import { LIMIT_NAMES, LIMITS, withOverrides } from '../../src/ratelimit/limits.js';

describe('limits and connection settings in the config', () => {
  it('every limit of the table is a variable with its default, and limitValuesOf reads them all', () => {
    const values = limitValuesOf(loadConfig({}));
    for (const name of LIMIT_NAMES) {
      expect(CONFIG_VARIABLES).toContain(LIMITS[name].env);
      expect(values[name], name).toBe(LIMITS[name].default);
    }
    expect(limitValuesOf(loadConfig({ OTP_IP_RATE_LIMIT: '200' })).otpPerAddress).toBe(200);
  });

  it('refuses values below a limit’s minimum, naming the variable and not echoing the value', () => {
    expect(() => loadConfig({ OTP_MAX_ATTEMPTS: '0' })).toThrow(/OTP_MAX_ATTEMPTS must be >= 1/);
    expect(() => loadConfig({ FRONTEND_BUDGET_FACTOR: '0' })).toThrow(/FRONTEND_BUDGET_FACTOR/);
    expect(() => loadConfig({ ANONYMOUS_RATE_LIMIT: '-5' })).toThrow(/ANONYMOUS_RATE_LIMIT/);
  });

  it('connection hygiene has defaults, and bad values are refused by name', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      requestTimeout: 10_000,
      headersTimeout: 5_000,
      keepAliveTimeout: 72_000,
      maxConnections: 0,
      oversizeDiscardLimit: 16 * 1024 * 1024,
    });
    expect(() => loadConfig({ REQUEST_TIMEOUT: 'soon' })).toThrow(/REQUEST_TIMEOUT/);
    expect(() => loadConfig({ MAX_CONNECTIONS: '-1' })).toThrow(/MAX_CONNECTIONS/);
  });

  it('a store’s overrides replace the configured values; names it does not know are ignored', () => {
    const base = limitValuesOf(loadConfig({}));
    const merged = withOverrides(base, { anonymous: 7, somethingLater: 3 });
    expect(merged.anonymous).toBe(7);
    expect(merged.otpPerAddress).toBe(base.otpPerAddress);
    expect(Object.keys(merged)).toEqual(LIMIT_NAMES);
  });

  it('TRUST_PROXY takes false, a hop count or an address list', () => {
    expect(loadConfig({}).trustProxy).toBe('false');
    expect(loadConfig({ TRUST_PROXY: '2' }).trustProxy).toBe('2');
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 2001:db8::/32' }).trustProxy).toBe(
      '10.0.0.0/8, 2001:db8::/32',
    );
    expect(() => loadConfig({ TRUST_PROXY: 'lb.internal' })).toThrow(/TRUST_PROXY has "lb.internal"/);
  });
});
