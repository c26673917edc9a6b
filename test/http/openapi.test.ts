// openapi/openapi.json is generated (npm run openapi) and committed; it must match a fresh
// export from buildApp, be a valid OpenAPI 3.0 document, and name every operation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Validator } from '@seriousme/openapi-schema-validator';
import { openapiDocument } from '../../src/http/openapi-document.js';

const committed = readFileSync(new URL('../../openapi/openapi.json', import.meta.url), 'utf8');

test('the committed spec equals a fresh export (run `npm run openapi` after changing routes)', async () => {
  assert.equal(committed, await openapiDocument());
});

test('the spec is valid OpenAPI 3.0', async () => {
  const v = new Validator();
  const r = await v.validate(JSON.parse(committed));
  assert.deepEqual(r.errors ?? [], []);
  assert.equal(r.valid, true);
});

test('every operation has a unique operationId and problem responses use named components', () => {
  const doc = JSON.parse(committed);
  const ids: string[] = [];
  for (const [path, ops] of Object.entries<Record<string, { operationId?: string }>>(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      assert.ok(op.operationId, `${method.toUpperCase()} ${path} has no operationId`);
      ids.push(op.operationId!);
    }
  }
  assert.equal(new Set(ids).size, ids.length);
  for (const name of ['Vm', 'Inode', 'File', 'Binding', 'Problem', 'Host', 'Migration', 'ProbeResult']) {
    assert.ok(doc.components.schemas[name], `component ${name}`);
  }
});
