import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig, ConfigError } from '../../src/config.js';

const pg = 'postgres://app:secret@pooler:6432/accredit';

test('a transaction pooler needs a direct URL for migrations, and only applies to PostgreSQL', () => {
  const err = (env: Record<string, string>) => {
    try {
      loadConfig(env);
    } catch (e) {
      assert.ok(e instanceof ConfigError);
      return e.variable;
    }
    assert.fail('expected a ConfigError');
  };
  assert.equal(err({ DATABASE_URL: pg, DATABASE_POOL_MODE: 'transaction' }), 'DATABASE_DIRECT_URL');
  assert.equal(err({ DATABASE_URL: 'sqlite:./x.db', DATABASE_POOL_MODE: 'transaction', DATABASE_DIRECT_URL: pg }), 'DATABASE_POOL_MODE');
  assert.equal(err({ DATABASE_URL: pg, DATABASE_POOL_MODE: 'statement' }), 'DATABASE_POOL_MODE');
  assert.equal(err({ DATABASE_URL: pg, DATABASE_POOL_MODE: 'transaction', DATABASE_DIRECT_URL: 'http://db' }), 'DATABASE_DIRECT_URL');
  const c = loadConfig({
    DATABASE_URL: pg,
    DATABASE_POOL_MODE: 'transaction',
    DATABASE_DIRECT_URL: 'postgres://app:secret@db:5432/accredit',
  });
  assert.equal(c.databasePoolMode, 'transaction');
  assert.equal(loadConfig({ DATABASE_URL: pg }).databasePoolMode, 'session');
});
