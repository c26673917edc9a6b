// Reconcile results to wire shapes: ISO times, and bigints already turned into numbers or hex.
import type { ReconcileResult } from '../reconcile/run.js';
import type { StartupReport } from '../reconcile/startup.js';
import type { HostScan } from '../reconcile/host-scan.js';

const iso = (t: number) => new Date(t).toISOString();

export const startupJson = (s: StartupReport) => ({
  at: iso(s.at), cause: s.cause, lost: s.lost, events: s.events,
  intents: s.intents.map((i) => ({ ...i, openedAt: iso(i.openedAt) })),
});

export const reconcileJson = (r: ReconcileResult, startup: StartupReport | null) => ({
  ...r, checkedAt: iso(r.checkedAt), ...(startup ? { startup: startupJson(startup) } : {}),
});

export const hostScanJson = (s: HostScan) => ({ ...s, scannedAt: iso(s.scannedAt) });
