// The real kernel's own word, read from /proc rather than from the adapter: after
// POST /v1/inodes this process holds an anon_inode:[kvm-gmem] fd whose fdinfo ino equals
// the kernelInode the API returned; after DELETE /v1/vms/{id} that fd is gone.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { needsGuestMemfd } from '../support/kvm.js';
import { call, makeApp, MiB } from '../support/app.js';

function gmemFdsByIno(): Map<number, number> {
  const out = new Map<number, number>();
  for (const fd of readdirSync('/proc/self/fd')) {
    let link: string;
    try { link = readlinkSync(`/proc/self/fd/${fd}`); } catch { continue; }
    if (link !== 'anon_inode:[kvm-gmem]') continue;
    const ino = /^ino:\s+(\d+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
    if (ino) out.set(Number(ino[1]), Number(fd));
  }
  return out;
}

describe('kernel truth through /proc (native)', needsGuestMemfd(), () => {
  test('the gmem fd exists with the reported inode number, and goes with its VM', async () => {
    const t = await makeApp('native');
    try {
      const vm = (await call(t.app, 'POST', '/v1/vms', { name: 'truth' })).json;
      const r = await call(t.app, 'POST', '/v1/inodes', { ownerVmId: vm.id, size: 2 * MiB });
      assert.equal(r.status, 201);
      const fds = gmemFdsByIno();
      assert.ok(fds.has(r.json.inode.kernelInode), `no kvm-gmem fd with ino ${r.json.inode.kernelInode}: ${[...fds.keys()]}`);
      const maps = readFileSync('/proc/self/maps', 'utf8');
      assert.match(maps, new RegExp(`anon_inode:\\[kvm-gmem\\]`), 'the shareable inode is mapped');
      assert.equal((await call(t.app, 'DELETE', `/v1/vms/${vm.id}`)).status, 200);
      assert.ok(!gmemFdsByIno().has(r.json.inode.kernelInode), 'the gmem fd is closed');
    } finally {
      await t.close();
    }
  });
});
