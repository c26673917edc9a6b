// The gmemd side of section 2: setting up a VM and an inode over the real API, and the
// bind/unbind cycle as an autocannon `requests` pair. Each in-flight cycle holds a "lane"
// (its own 2 MiB of guest-physical space and of the inode), because two live gmem memslots
// may overlap neither in GPA (EEXIST) nor in file offset (EINVAL); with 64 lanes and up to
// 64 connections there is always a free one.
import type autocannon from 'autocannon';
import { Samples } from './stats.js';

const MiB = 1024 * 1024;
/** The admin token the bench's gmemd registers (as GMEMD_ADMIN_TOKEN would) and every request sends. */
export const BENCH_TOKEN = 'gmemd_bench_admin_token_0123456789abcdef';
export const BENCH_AUTH = { authorization: `Bearer ${BENCH_TOKEN}` };
const LANE = 2 * MiB;
const LANES = 64;

async function api<T>(base: string, method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? BENCH_AUTH : { ...BENCH_AUTH, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

interface Created { inode: { id: string }; file: { id: string } }

async function vmWithInode(base: string, name: string): Promise<Created> {
  const vm = await api<{ id: string }>(base, 'POST', '/v1/vms', { name });
  return api<Created>(base, 'POST', '/v1/inodes', { ownerVmId: vm.id, size: LANES * LANE, shareable: true });
}

/** (d): an inode with its owner file and one active binding, so the detail is not trivially empty. */
export async function setupInodeTarget(base: string): Promise<string> {
  const c = await vmWithInode(base, 'bench-read');
  await api(base, 'POST', `/v1/files/${c.file.id}/bindings`, { gpa: 0, offset: 0, size: LANE });
  return c.inode.id;
}

/** (e): 120 inodes of one VM, so a list with limit=100 returns a full page (and a cursor). */
export async function setupListTarget(base: string): Promise<string> {
  const vm = await api<{ id: string }>(base, 'POST', '/v1/vms', { name: 'bench-list' });
  for (let i = 0; i < 120; i++) await api(base, 'POST', '/v1/inodes', { ownerVmId: vm.id, size: LANE, shareable: true });
  return '/v1/inodes?limit=100';
}

/** (c): the owner file the cycles bind (a writable owner file gets gmem memslots). */
export async function setupBindTarget(base: string): Promise<string> {
  return (await vmWithInode(base, 'bench-bind')).file.id;
}

/** Deletes every active binding of the file: what a cut-off cycle left behind. */
export async function unbindAll(base: string, fileId: string): Promise<void> {
  // Requests still in flight at stop() land late on a loaded machine: wait until none has for a second.
  for (let quiet = 0; quiet < 2;) {
    await new Promise((r) => setTimeout(r, 500));
    const page = await api<{ items: { id: string }[] }>(base, 'GET', `/v1/bindings?fileId=${fileId}&state=active&limit=100`);
    for (const b of page.items) await api(base, 'DELETE', `/v1/bindings/${b.id}`);
    quiet = page.items.length === 0 ? quiet + 1 : 0;
  }
}

interface CycleContext { lane?: number; t0?: number; bindingId?: string }

/**
 * POST then DELETE per connection, threading the binding id through autocannon's
 * per-connection context (it is reset at the start of each pass over `requests`). A cycle
 * counts only when both answered 2xx; its latency runs from building the POST to the
 * DELETE's response.
 */
export function bindCycleRequests(fileId: string) {
  const free = Array.from({ length: LANES }, (_, i) => LANES - 1 - i);
  const latency = new Samples();
  let cycles = 0;
  const requests: autocannon.Request[] = [
    {
      method: 'POST', path: `/v1/files/${fileId}/bindings`, headers: { ...BENCH_AUTH, 'content-type': 'application/json' },
      setupRequest: (req, context) => {
        const ctx = context as CycleContext;
        const lane = free.pop();
        if (lane === undefined) throw new Error('bind cycle: no free lane (more connections than lanes?)');
        ctx.lane = lane;
        ctx.t0 = performance.now();
        return { ...req, body: JSON.stringify({ gpa: lane * LANE, offset: lane * LANE, size: LANE }) };
      },
      onResponse: (status, body, context) => {
        (context as CycleContext).bindingId = status === 201 ? (JSON.parse(body) as { id: string }).id : undefined;
      },
    },
    {
      method: 'DELETE', headers: BENCH_AUTH,
      // A failed POST still sends a DELETE (to a missing id: a 404, counted as non-2xx),
      // which keeps the pair in step and returns the lane.
      setupRequest: (req, context) => ({ ...req, path: `/v1/bindings/${(context as CycleContext).bindingId ?? 'bind_missing'}` }),
      onResponse: (status, _body, context) => {
        const ctx = context as CycleContext;
        if (ctx.lane !== undefined) free.push(ctx.lane);
        if (status === 200 && ctx.bindingId && ctx.t0 !== undefined) {
          cycles += 1;
          latency.push(performance.now() - ctx.t0);
        }
      },
    },
  ];
  return { requests, count: () => cycles, latency: () => latency.percentiles() };
}

/**
 * (e): the set-up mix, one step per request on each connection: create a VM, create an
 * inode on it, share its owner file with a fixed VM, bind the owner file. Every request is
 * one durable mutation; a failed step restarts the chain at the VM.
 */
export async function setupMixTarget(base: string): Promise<string> {
  return (await api<{ id: string }>(base, 'POST', '/v1/vms', { name: 'bench-mix-grantee' })).id;
}

interface MixContext { vmId?: string; fileId?: string }

export function mixRequests(granteeVmId: string) {
  let n = 0;
  const json = { ...BENCH_AUTH, 'content-type': 'application/json' };
  const step = (build: (ctx: MixContext) => { path: string; body: unknown } | null, after?: (ctx: MixContext, body: string) => void): autocannon.Request => ({
    method: 'POST', headers: json,
    setupRequest: (req, context) => {
      const b = build(context as MixContext);
      // A missing id (an earlier step failed): a request that is refused, and the chain goes on.
      return b ? { ...req, path: b.path, body: JSON.stringify(b.body) } : { ...req, path: '/v1/vms/vm_missing/probe', body: '{"gpa":0}' };
    },
    onResponse: (status, body, context) => { if (after && status < 300) after(context as MixContext, body); },
  });
  const requests: autocannon.Request[] = [
    step(() => ({ path: '/v1/vms', body: { name: `mix-${process.pid}-${n++}` } }), (c, b) => { c.vmId = (JSON.parse(b) as { id: string }).id; c.fileId = undefined; }),
    step((c) => (c.vmId ? { path: '/v1/inodes', body: { ownerVmId: c.vmId, size: 65536, shareable: true } } : null),
      (c, b) => { c.fileId = (JSON.parse(b) as { file: { id: string } }).file.id; }),
    step((c) => (c.fileId ? { path: `/v1/files/${c.fileId}/shares`, body: { vmId: granteeVmId, permissions: ['read'] } } : null)),
    step((c) => (c.fileId ? { path: `/v1/files/${c.fileId}/bindings`, body: { gpa: 0, offset: 0, size: 65536 } } : null)),
  ];
  return { requests };
}
