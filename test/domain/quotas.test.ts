// Quota rules and the limits table, as pure functions: no database, no kernel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkBindingQuota, checkInodeQuota, checkVmQuota } from '../../src/domain/quotas.js';
import { defaultLimits, LIMIT_KNOBS, LIMIT_NAMES, maxInodeSize, resolveLimits } from '../../src/domain/limits.js';
import { MAX_INODE_SIZE } from '../../src/domain/ranges.js';
import { parseLimits } from '../../src/config.js';
import { readFileSync } from 'node:fs';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const host = { totalMemBytes: 24 * GiB, nrMemslots: 32764 };
const code = (r: { ok: boolean; error?: { code: string } }) => (r.ok ? 'ok' : r.error!.code);

test('VMs: the count below the limit passes, at the limit is quota.vms with limit and use', () => {
  assert.equal(code(checkVmQuota(1, { maxVms: 2 })), 'ok');
  const r = checkVmQuota(2, { maxVms: 2 });
  assert.equal(code(r), 'quota.vms');
  assert.deepEqual(!r.ok && r.error.details, { limit: 2, used: 2 });
});

test('inodes: the count is checked first, then the bytes against the budget', () => {
  const l = { maxInodes: 3, memoryBudgetBytes: 8 * MiB };
  assert.equal(code(checkInodeQuota({ inodes: 2, bytes: 4 * MiB }, 4 * MiB, l)), 'ok', 'exactly filling the budget fits');
  assert.equal(code(checkInodeQuota({ inodes: 3, bytes: 0 }, 4096, l)), 'quota.inodes');
  const over = checkInodeQuota({ inodes: 1, bytes: 6 * MiB }, 4 * MiB, l);
  assert.equal(code(over), 'quota.memory');
  assert.deepEqual(!over.ok && over.error.details, { limit: 8 * MiB, used: 6 * MiB, requested: 4 * MiB, free: 2 * MiB });
  // Larger than the whole budget: refused on an empty host too.
  assert.equal(code(checkInodeQuota({ inodes: 0, bytes: 0 }, 16 * MiB, l)), 'quota.memory');
});

test('an inode never exceeds the fixed 1 TiB bound, even under a larger budget', () => {
  const l = { maxInodes: 10, memoryBudgetBytes: 4 * MAX_INODE_SIZE };
  assert.equal(maxInodeSize(l), MAX_INODE_SIZE);
  assert.equal(maxInodeSize({ memoryBudgetBytes: GiB }), GiB);
  assert.equal(code(checkInodeQuota({ inodes: 0, bytes: 0 }, MAX_INODE_SIZE, l)), 'ok');
  assert.equal(code(checkInodeQuota({ inodes: 0, bytes: 0 }, MAX_INODE_SIZE + 4096, l)), 'quota.memory');
});

test('bindings per VM: at the limit is quota.bindings; a batch must fit whole', () => {
  assert.equal(code(checkBindingQuota(0, { maxBindingsPerVm: 1 })), 'ok');
  assert.equal(code(checkBindingQuota(1, { maxBindingsPerVm: 1 })), 'quota.bindings');
  // A migration adds all of its source's at once.
  assert.equal(code(checkBindingQuota(1, { maxBindingsPerVm: 4 }, 3)), 'ok');
  const r = checkBindingQuota(2, { maxBindingsPerVm: 4 }, 3);
  assert.equal(code(r), 'quota.bindings');
  assert.deepEqual(!r.ok && r.error.details, { limit: 4, used: 2, requested: 3 });
});

test('defaults: half the host memory (page-aligned), KVM memslots less the probe slot, 24 h idempotency', () => {
  const d = defaultLimits(host);
  assert.equal(d.memoryBudgetBytes, 12 * GiB);
  assert.equal(defaultLimits({ totalMemBytes: 3 * 4096 + 100, nrMemslots: 509 }).memoryBudgetBytes, 4096, 'rounded down to a page');
  assert.equal(d.maxBindingsPerVm, 32763);
  assert.equal(defaultLimits({ ...host, nrMemslots: 509 }).maxBindingsPerVm, 508, 'a host that reports fewer memslots lowers it');
  assert.equal(d.maxVms, 1024);
  assert.equal(d.idempotencyTtlSeconds, 86400);
  assert.ok(d.rateLimitPerMinute > 0);
  for (const k of LIMIT_NAMES) assert.match(LIMIT_KNOBS[k].env, /^GMEMD_[A-Z_]+$/, k);
});

test('overrides replace defaults within bounds; out of bounds names the variable', () => {
  const r = resolveLimits({ maxVms: 3, rateLimitPerMinute: 0 }, host);
  assert.ok(r.ok);
  assert.equal(r.value.maxVms, 3);
  assert.equal(r.value.rateLimitPerMinute, 0, '0 turns the rate limiter off');
  assert.equal(r.value.maxInodes, defaultLimits(host).maxInodes);
  const bad = (o: Parameters<typeof resolveLimits>[0]) => { const x = resolveLimits(o, host); return x.ok ? 'ok' : x.error.message; };
  assert.match(bad({ maxVms: 0 }), /GMEMD_MAX_VMS/);
  assert.match(bad({ maxBindingsPerVm: 32764 }), /GMEMD_MAX_BINDINGS_PER_VM must be an integer in \[1, 32763\]/);
  assert.match(bad({ memoryBudgetBytes: 1.5 }), /GMEMD_MEMORY_BUDGET_BYTES/);
  assert.match(bad({ headersTimeoutMs: 20_000, requestTimeoutMs: 10_000 }), /GMEMD_HEADERS_TIMEOUT_MS .* exceeds GMEMD_REQUEST_TIMEOUT_MS/);
});

test('config: each GMEMD_* limit variable is read as an integer; garbage refuses to start', () => {
  assert.deepEqual(parseLimits({ GMEMD_MAX_VMS: '7', GMEMD_IDEMPOTENCY_TTL_SECONDS: '60', GMEMD_MAX_INODES: '' }), { maxVms: 7, idempotencyTtlSeconds: 60 });
  assert.deepEqual(parseLimits({}), {});
  assert.throws(() => parseLimits({ GMEMD_MEMORY_BUDGET_BYTES: '12G' }), /GMEMD_MEMORY_BUDGET_BYTES must be a non-negative integer/);
  assert.throws(() => parseLimits({ GMEMD_RATE_LIMIT_PER_MINUTE: '-1' }), /GMEMD_RATE_LIMIT_PER_MINUTE/);
});

test('README documents every limit variable with its default', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  for (const k of LIMIT_NAMES) assert.match(readme, new RegExp(`^\\| \`${LIMIT_KNOBS[k].env}\` \\| [^|]+ \\|`, 'm'), LIMIT_KNOBS[k].env);
});
