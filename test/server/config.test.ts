// What a start must refuse or warn about, and what a handover successor inherits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkConfig, ConfigError, loadConfig, successorEnv } from '../../src/config.js';

const check = (env: Record<string, string>) => checkConfig(loadConfig(env), env);

test('test-only settings need GMEMD_TEST_MODE=1, and are warned about when on', () => {
  assert.throws(() => check({ GMEMD_TEST_HOOKS: '1' }), (e: Error) => e instanceof ConfigError && /GMEMD_TEST_MODE=1/.test(e.message));
  assert.throws(() => check({ GMEMD_TEST_CRASH_AT: 'vm.destroy:intent' }), ConfigError);
  assert.throws(() => check({ GMEMD_TEST_HOOKS: '1', GMEMD_TEST_MODE: 'yes' }), ConfigError);
  assert.deepEqual(check({}), []);
  const w = check({ GMEMD_TEST_HOOKS: '1', GMEMD_TEST_MODE: '1' });
  assert.equal(w.length, 1);
  assert.match(w[0]!, /^TEST MODE: GMEMD_TEST_HOOKS/);
});

test('off loopback: TLS, or GMEMD_INSECURE=1 with a warning; loopback and Unix sockets need neither', () => {
  assert.throws(() => check({ GMEMD_LISTEN: '0.0.0.0:7420' }), /GMEMD_TLS_CERT/);
  assert.throws(() => check({ GMEMD_LISTEN: '[::]:7420' }), /not a loopback/);
  assert.match(check({ GMEMD_LISTEN: '0.0.0.0:7420', GMEMD_INSECURE: '1' })[0]!, /^INSECURE/);
  assert.deepEqual(check({ GMEMD_LISTEN: '10.0.0.1:7420', GMEMD_TLS_CERT: '/c.pem', GMEMD_TLS_KEY: '/k.pem' }), []);
  assert.throws(() => check({ GMEMD_TLS_CERT: '/c.pem' }), /together/);
  for (const l of ['127.0.0.1:1', '127.3.4.5:1', '[::1]:1', 'localhost:1', 'unix:/tmp/x.sock']) assert.deepEqual(check({ GMEMD_LISTEN: l }), [], l);
});

test('GMEMD_SOCKET_MODE is octal, GMEMD_ADMIN_TOKEN long enough to be a secret', () => {
  assert.equal(loadConfig({}).socketMode, 0o660);
  assert.equal(loadConfig({ GMEMD_SOCKET_MODE: '0600' }).socketMode, 0o600);
  assert.throws(() => loadConfig({ GMEMD_SOCKET_MODE: '999' }), ConfigError);
  assert.throws(() => check({ GMEMD_ADMIN_TOKEN: 'short' }), /32 characters/);
  assert.deepEqual(check({ GMEMD_ADMIN_TOKEN: 'x'.repeat(32) }), []);
});

test('a successor drops test-only settings unless GMEMD_HANDOVER_TEST_MODE=1', () => {
  const env = { GMEMD_DB: '/l.db', GMEMD_TEST_MODE: '1', GMEMD_TEST_HOOKS: '1', GMEMD_TEST_CRASH_AT: 'handover.adopt:recorded', GMEMD_ADMIN_TOKEN: 'x'.repeat(32) };
  assert.deepEqual(successorEnv(env), { GMEMD_DB: '/l.db', GMEMD_ADMIN_TOKEN: 'x'.repeat(32) });
  assert.deepEqual(successorEnv({ ...env, GMEMD_HANDOVER_TEST_MODE: '1' }), { ...env, GMEMD_HANDOVER_TEST_MODE: '1' });
});
