import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Store } from '../../src/store/store.js';
import { tempDir } from '../support/tmp.js';

test('event time never goes backwards along seq, even when the clock does', () => {
  const tmp = tempDir();
  let clock = 10_000;
  const store = Store.open(join(tmp.dir, 't.db'), () => clock);
  try {
    const append = () => store.uow.run(() => store.chain.append({ action: 'vm.create', outcome: 'ok', actor: 'local' }));
    assert.equal(append().time, 10_000);
    clock = 5_000; // the wall clock steps back
    assert.equal(append().time, 10_000);
    clock = 12_000;
    assert.equal(append().time, 12_000);
  } finally {
    store.close();
    tmp.cleanup();
  }
});
