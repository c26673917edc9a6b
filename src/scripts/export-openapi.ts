// npm run openapi: writes openapi/openapi.json from buildApp. Committed; a test fails when
// the committed file differs from a fresh export.
import { writeFileSync } from 'node:fs';
import { openapiDocument } from '../http/openapi-document.js';

writeFileSync(new URL('../../openapi/openapi.json', import.meta.url), await openapiDocument());
console.log('wrote openapi/openapi.json');
