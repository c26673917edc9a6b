// openapi/openapi.json is generated (npm run openapi) and committed; it must match a fresh
// export from buildApp, be what GET /openapi.json serves, be a valid OpenAPI 3.1 document,
// name and summarise every operation, list problem+json errors on each, carry request-body
// examples that the body schemas accept, and pass Redocly's recommended rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { openapiDocument } from '../../src/http/openapi-document.js';
import { makeApp } from '../support/app.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const committed = readFileSync(new URL('../../openapi/openapi.json', import.meta.url), 'utf8');
const doc = JSON.parse(committed);
const METHODS = ['get', 'put', 'post', 'delete', 'patch'];
const operations = Object.entries<Record<string, any>>(doc.paths).flatMap(([path, item]) =>
  Object.entries(item).filter(([m]) => METHODS.includes(m)).map(([method, op]) => ({ path, method, op })));

test('the committed spec equals a fresh export (run `npm run openapi` after changing routes)', async () => {
  assert.equal(committed, await openapiDocument());
});

test('GET /openapi.json serves exactly the committed document', async () => {
  const t = await makeApp('simulated');
  try {
    const res = await t.app.inject({ method: 'GET', url: '/openapi.json' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    assert.equal(res.body, committed);
  } finally { await t.close(); }
});

test('the spec is valid OpenAPI 3.1', async () => {
  assert.equal(doc.openapi, '3.1.0');
  const v = new Validator();
  const r = await v.validate(doc);
  assert.deepEqual(r.errors ?? [], []);
  assert.equal(r.valid, true);
  assert.equal(v.version, '3.1');
});

test('every operation has a unique operationId, a summary and problem+json error responses naming the Problem component', () => {
  assert.ok(operations.length >= 35, `only ${operations.length} operations`);
  const ids = operations.map(({ op }) => op.operationId);
  for (const { path, method, op } of operations) {
    const where = `${method.toUpperCase()} ${path}`;
    assert.ok(op.operationId, `${where} has no operationId`);
    assert.ok(typeof op.summary === 'string' && op.summary.length > 5, `${where} has no summary`);
    assert.deepEqual(op.responses.default, { $ref: '#/components/responses/Problem' }, `${where} default response`);
    for (const [status, res] of Object.entries<any>(op.responses)) {
      if (!/^[45]\d\d$/.test(status)) continue;
      const r = res.$ref ? doc.components.responses[res.$ref.split('/').pop()] : res;
      assert.deepEqual(r.content, { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } }, `${where} ${status}`);
    }
  }
  assert.equal(new Set(ids).size, ids.length);
  for (const name of ['Vm', 'Inode', 'File', 'Binding', 'Problem', 'Host', 'Migration', 'ProbeResult']) {
    assert.ok(doc.components.schemas[name], `component ${name}`);
  }
  // 3.1 expresses null as a type, never with 3.0's `nullable`.
  assert.doesNotMatch(committed, /"nullable"/);
});

test('every request body has an example, and the body schema accepts it', () => {
  const ajv = new Ajv2020({ strict: false, validateFormats: false });
  for (const [name, schema] of Object.entries<object>(doc.components.schemas)) ajv.addSchema(schema, `#/components/schemas/${name}`);
  let bodies = 0;
  for (const { path, method, op } of operations) {
    const media = op.requestBody?.content?.['application/json'];
    if (!media) continue;
    bodies++;
    const where = `${method.toUpperCase()} ${path}`;
    assert.ok(media.example !== undefined, `${where} has no example`);
    const validate = ajv.compile(media.schema);
    assert.ok(validate(media.example), `${where}: ${JSON.stringify(validate.errors)}`);
  }
  assert.ok(bodies >= 12, `only ${bodies} request bodies`);
});

test('Redocly CLI lints the document with its recommended rules: 0 errors', () => {
  const r = spawnSync(process.execPath, [fileURLToPath(new URL('../../node_modules/@redocly/cli/bin/cli.js', import.meta.url)),
    'lint', '--config', 'openapi/redocly.yaml', 'openapi/openapi.json'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' } });
  const out = r.stdout + r.stderr;
  assert.equal(r.status, 0, out);
  assert.doesNotMatch(out, /\d+ errors?/i, out);
});
