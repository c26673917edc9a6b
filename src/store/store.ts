// The ledger as the services see it: repositories, the audit chain and the unit of work,
// all over one better-sqlite3 connection.
import { openLedger, type Ledger } from './database.js';
import { AuditChain } from './audit-chain.js';
import { dataVersionOf, type DataVersion } from './data-version.js';
import { UnitOfWork } from './unit-of-work.js';
import { VmsRepo } from './vms-repo.js';
import { InodesRepo } from './inodes-repo.js';
import { FilesRepo } from './files-repo.js';
import { BindingsRepo } from './bindings-repo.js';
import { MigrationsRepo } from './migrations-repo.js';
import { AccessRepo } from './access-repo.js';
import { IntentsRepo } from './intents-repo.js';
import { IdempotencyRepo } from './idempotency-repo.js';
import { TokensRepo } from './tokens-repo.js';

export class Store {
  readonly chain: AuditChain;
  readonly uow: UnitOfWork;
  readonly vms: VmsRepo;
  readonly inodes: InodesRepo;
  readonly files: FilesRepo;
  readonly bindings: BindingsRepo;
  readonly migrations: MigrationsRepo;
  readonly access: AccessRepo;
  readonly intents: IntentsRepo;
  readonly idempotency: IdempotencyRepo;
  readonly tokens: TokensRepo;

  constructor(readonly ledger: Ledger, readonly now: () => number = Date.now) {
    const { sqlite, db } = ledger;
    this.dataVersion = dataVersionOf(sqlite);
    this.chain = new AuditChain(sqlite, now);
    this.uow = new UnitOfWork(sqlite, this.chain);
    this.vms = new VmsRepo(db);
    this.inodes = new InodesRepo(db);
    this.files = new FilesRepo(db);
    this.bindings = new BindingsRepo(db);
    this.migrations = new MigrationsRepo(db);
    this.access = new AccessRepo(db);
    this.intents = new IntentsRepo(db, now);
    this.idempotency = new IdempotencyRepo(db, now);
    this.tokens = new TokensRepo(db, this.dataVersion);
  }

  /** Changes whenever the ledger may have changed (data-version.ts). */
  readonly dataVersion: DataVersion;

  static open(path: string, now: () => number = Date.now): Store {
    return new Store(openLedger(path), now);
  }

  close(): void {
    // The connection first: closing any fd of this process on the -shm file drops every
    // fcntl lock the process holds on it, SQLite's included (data-version.ts).
    this.ledger.close();
    this.dataVersion.close();
  }
}
