// Quick A/B for the read path while tuning: a bare Fastify GET and gmemd's reads, each on its
// own server child (gmemd as `npm start` runs it: run `npm run build` first), alternated
// ROUNDS times so drift on a shared machine hits both sides.
//   node --import tsx test/bench/ab-read.ts [seconds] [rounds]
import { fork } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServerReady } from './http-server.js';
import { runLoad } from './load.js';
import { BENCH_AUTH, setupInodeTarget, setupListTarget } from './gmemd-scenarios.js';
import { startGmemdProcess } from './gmemd-process.js';

const [secs = '3', rounds = '3'] = process.argv.slice(2);
const dir = mkdtempSync(join(tmpdir(), 'gmemd-ab-'));
const child = fork(fileURLToPath(new URL('./http-server.ts', import.meta.url)), ['hello', mkdtempSync(join(dir, 'hello'))], {
  execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
});
const ready = await new Promise<ServerReady>((resolve) => child.once('message', (m) => resolve(m as ServerReady)));
const hello = { base: `http://127.0.0.1:${ready.port}` };
const served = await startGmemdProcess(mkdtempSync(join(dir, 'gmemd')));
const gmemd = { base: `http://127.0.0.1:${served.port}` };
const urls = {
  hello: `${hello.base}/hello`,
  livez: `${gmemd.base}/livez`,
  inode: `${gmemd.base}/v1/inodes/${await setupInodeTarget(gmemd.base)}`,
  list: `${gmemd.base}${await setupListTarget(gmemd.base)}`,
};
for (const url of Object.values(urls)) await runLoad({ url, seconds: 1, connections: 10, headers: BENCH_AUTH });
const sum: Record<string, number> = { hello: 0, livez: 0, inode: 0, list: 0 };
for (let i = 0; i < Number(rounds); i++) {
  for (const [k, url] of Object.entries(urls)) sum[k] += (await runLoad({ url, seconds: Number(secs), connections: 10, headers: BENCH_AUTH })).reqPerSec;
}
console.log(Object.entries(sum).map(([k, v]) => `${k} ${Math.round(v / Number(rounds))} req/s ${(v / sum.hello!).toFixed(3)}x`).join('; '));
child.kill('SIGTERM');
await served.stop();
