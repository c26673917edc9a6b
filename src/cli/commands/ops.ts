// gmemd serve | status | reconcile | handover: running the service and looking after it.
import { unwrap, UsageError, type Command } from '../context.js';
import { show, table } from '../output.js';

export const opsCommands: Command[] = [
  {
    name: 'serve', summary: 'Run the gmemd service in this process (what npm start runs)',
    usage: `gmemd serve [--listen ADDR] [--db PATH] [--backend auto|native|simulated]

  --listen ADDR  host:port or unix:/path (sets GMEMD_LISTEN; default 127.0.0.1:7420)
  --db PATH      the ledger (sets GMEMD_DB; default ./data/gmemd.db)
  --backend B    kernel backend (sets GMEMD_BACKEND; default auto)

Every other setting comes from the environment (README, Configuration).`,
    options: { listen: { type: 'string' }, db: { type: 'string' }, backend: { type: 'string' } },
    async run(c) {
      const backend = c.values.backend as string | undefined;
      if (backend !== undefined && !['auto', 'native', 'simulated'].includes(backend)) throw new UsageError('--backend must be auto, native or simulated');
      for (const [flag, name] of [['listen', 'GMEMD_LISTEN'], ['db', 'GMEMD_DB'], ['backend', 'GMEMD_BACKEND']] as const) {
        const v = c.values[flag];
        if (typeof v === 'string') process.env[name] = v;
      }
      // The server module starts on import and owns the process from then on (signals, exit).
      await import('../../server.js');
      return 0;
    },
  },
  {
    name: 'status', summary: 'Backend, version, ledger totals and readiness of a running gmemd',
    usage: 'gmemd status\n\nExit 0 when the service is ready, 1 when it answers but is not ready (starting, handing over).',
    async run(c) {
      const host = unwrap(await c.api.GET('/v1/host'));
      const ready = await c.api.GET('/readyz');
      const status = { ready: ready.response.ok, backend: host.backend, backendNote: host.backendNote, service: host.service, ledger: host.ledger, memory: host.memory };
      show(c, status, () => [
        `gmemd ${host.service.version} (pid ${host.service.pid}) at ${c.url}: ${status.ready ? 'ready' : 'NOT ready'}`,
        `backend    ${host.backendNote}`,
        `ledger     ${host.service.db}: ${host.ledger.vmsActive} active VMs, ${host.ledger.inodesLive} live inodes, ${host.ledger.events} events`,
        `memory     ${host.memory.liveInodeBytes} bytes in live inodes`,
        `started    ${host.service.startedAt}`,
      ].join('\n'));
      return status.ready ? 0 : 1;
    },
  },
  {
    name: 'reconcile', summary: 'Compare the ledger with the kernel; with --repair, make them agree',
    usage: `gmemd reconcile [--repair] [--sweep-slots]

  --repair       re-create or delete memslots and mark lost what the process no longer holds
  --sweep-slots  also probe every memslot id of every VM (slow: ~32k kernel calls per VM)

Exit 0 when nothing differs (after repair, with --repair), 1 when drift remains.`,
    options: { repair: { type: 'boolean' }, 'sweep-slots': { type: 'boolean' } },
    async run(c) {
      const repair = c.values.repair === true;
      const report = unwrap(await c.api.POST('/v1/reconcile', { body: { repair, sweepSlots: c.values['sweep-slots'] === true } }));
      const left = repair ? report.remaining : report.drift;
      show(c, report, () => [
        `checked ${report.checked.vms} VMs, ${report.checked.inodes} inodes, ${report.checked.files} files, ${report.checked.bindings} bindings, ${report.checked.memslots} memslots`,
        `drift: ${report.drift.length}${repair ? `, repairs: ${report.repairs.length}, remaining: ${report.remaining.length}` : ''}`,
        ...(left.length ? [table(left, [['KIND', (d) => d.kind], ['REPAIRABLE', (d) => d.repairable], ['MESSAGE', (d) => d.message]])] : []),
      ].join('\n'));
      return left.length === 0 ? 0 : 1;
    },
  },
  {
    name: 'handover', summary: 'Hand guest memory to a successor process started from the code on disk',
    usage: `gmemd handover [--force]

  --force  hand over even though private inodes exist (their memory is lost)

The successor takes over the listening socket; this prints its pid.`,
    options: { force: { type: 'boolean' } },
    async run(c) {
      const h = unwrap(await c.api.POST('/v1/admin/handover', { body: { force: c.values.force === true } }));
      show(c, h, () => `handover ${h.handoverId}: pid ${h.fromPid} -> ${h.successorPid}`);
      return 0;
    },
  },
];
