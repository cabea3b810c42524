import Database from "better-sqlite3";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { BangerError } from "../errors/index.js";
import { MIGRATIONS } from "./migrations.js";

export type VmState = "created" | "starting" | "running" | "stopping" | "stopped" | "error";

/** What a VM is: the durable record. Momentary facts (pid, tap) live in its handles file. */
export interface VmRecord {
  id: string;
  name: string;
  image: string;
  kernel: string;
  vcpus: number;
  memoryMib: number;
  diskSizeMib: number;
  state: VmState;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
  /** The checkout last prepared in the VM, if any. */
  workspace?: WorkspaceRecord | undefined;
  /** Masquerading beyond the bridge; off unless asked for with `--nat`. */
  nat?: boolean | undefined;
}

export interface WorkspaceRecord {
  guestPath: string;
  hostPath: string;
  /** The host commit the guest tree was prepared from; null for a repository without commits. */
  commit: string | null;
  preparedAt: string;
}

interface VmRow {
  id: string;
  name: string;
  image: string;
  kernel: string;
  vcpus: number;
  memory_mib: number;
  disk_size_mib: number;
  state: VmState;
  last_error: string | null;
  created_at: string;
  updated_at: string;
  workspace: string | null;
  nat: number;
}

function fromRow(r: VmRow): VmRecord {
  return {
    id: r.id,
    name: r.name,
    image: r.image,
    kernel: r.kernel,
    vcpus: r.vcpus,
    memoryMib: r.memory_mib,
    diskSizeMib: r.disk_size_mib,
    state: r.state,
    lastError: r.last_error,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    ...(r.workspace ? { workspace: JSON.parse(r.workspace) as WorkspaceRecord } : {}),
    nat: r.nat === 1,
  };
}

/** The SQLite database (WAL). One per state dir, owned by the daemon. */
export class Store {
  readonly #db: Database.Database;

  constructor(dbPath: string) {
    if (dbPath !== ":memory:") mkdirSync(path.dirname(dbPath), { recursive: true });
    try {
      this.#db = new Database(dbPath);
      this.#db.pragma("journal_mode = WAL");
      this.#db.pragma("foreign_keys = ON");
      this.#db.pragma("busy_timeout = 5000");
      this.#migrate();
    } catch (err) {
      throw new BangerError("STORE_FAILED", `cannot open the store "${dbPath}"`, { cause: err });
    }
  }

  #migrate(): void {
    const current = this.#db.pragma("user_version", { simple: true }) as number;
    if (current > MIGRATIONS.length) {
      throw new BangerError(
        "STORE_FAILED",
        `store schema version ${current} is newer than this banger knows (${MIGRATIONS.length})`,
        { hint: "upgrade banger" },
      );
    }
    for (let v = current; v < MIGRATIONS.length; v++) {
      this.#db.transaction(() => {
        this.#db.exec(MIGRATIONS[v]!);
        this.#db.pragma(`user_version = ${v + 1}`);
      })();
    }
  }

  schemaVersion(): number {
    return this.#db.pragma("user_version", { simple: true }) as number;
  }

  /** Inserts a new record; VM_NAME_TAKEN when the name exists. */
  insertVm(vm: VmRecord): void {
    try {
      this.#db
        .prepare(
          `INSERT INTO vms (id, name, image, kernel, vcpus, memory_mib, disk_size_mib, state,
             last_error, created_at, updated_at)
           VALUES (@id, @name, @image, @kernel, @vcpus, @memoryMib, @diskSizeMib, @state,
             @lastError, @createdAt, @updatedAt)`,
        )
        .run(vm);
    } catch (err) {
      if (err instanceof Error && /UNIQUE constraint failed: vms.name/.test(err.message)) {
        throw new BangerError("VM_NAME_TAKEN", `cannot create VM "${vm.name}": the name is taken`, {
          hint: `choose another --name, or remove it with: banger vm delete ${vm.name}`,
        });
      }
      throw err;
    }
  }

  getVmByName(name: string): VmRecord | undefined {
    const row = this.#db.prepare("SELECT * FROM vms WHERE name = ?").get(name) as VmRow | undefined;
    return row && fromRow(row);
  }

  getVm(id: string): VmRecord | undefined {
    const row = this.#db.prepare("SELECT * FROM vms WHERE id = ?").get(id) as VmRow | undefined;
    return row && fromRow(row);
  }

  listVms(): VmRecord[] {
    const rows = this.#db.prepare("SELECT * FROM vms ORDER BY created_at, name").all() as VmRow[];
    return rows.map(fromRow);
  }

  /** Sets the state (and last error, cleared when not given) and bumps updated_at. */
  setVmState(id: string, state: VmState, lastError: string | null = null): void {
    this.#db
      .prepare("UPDATE vms SET state = ?, last_error = ?, updated_at = ? WHERE id = ?")
      .run(state, lastError, new Date().toISOString(), id);
  }

  updateVmSpec(id: string, spec: { vcpus: number; memoryMib: number }): void {
    this.#db
      .prepare("UPDATE vms SET vcpus = ?, memory_mib = ?, updated_at = ? WHERE id = ?")
      .run(spec.vcpus, spec.memoryMib, new Date().toISOString(), id);
  }

  setWorkspace(id: string, workspace: WorkspaceRecord): void {
    this.#db
      .prepare("UPDATE vms SET workspace = ?, updated_at = ? WHERE id = ?")
      .run(JSON.stringify(workspace), new Date().toISOString(), id);
  }

  /** Turns masquerading for the VM on or off; the NAT rules follow from the records. */
  setVmNat(id: string, nat: boolean): void {
    this.#db
      .prepare("UPDATE vms SET nat = ?, updated_at = ? WHERE id = ?")
      .run(nat ? 1 : 0, new Date().toISOString(), id);
  }

  /** Removes the record and its lease. Idempotent. */
  deleteVm(id: string): void {
    this.#db.prepare("DELETE FROM vms WHERE id = ?").run(id);
  }

  /**
   * Leases an address to `vmId` atomically: `pick` receives the addresses in use and returns a
   * free one. A VM that already holds a lease keeps it.
   */
  leaseAddress(vmId: string, pick: (used: ReadonlySet<string>) => string): string {
    return this.#db
      .transaction(() => {
        const own = this.#db.prepare("SELECT address FROM leases WHERE vm_id = ?").get(vmId) as
          { address: string } | undefined;
        if (own) return own.address;
        const used = new Set(
          (this.#db.prepare("SELECT address FROM leases").all() as { address: string }[]).map(
            (r) => r.address,
          ),
        );
        const address = pick(used);
        this.#db
          .prepare("INSERT INTO leases (address, vm_id, created_at) VALUES (?, ?, ?)")
          .run(address, vmId, new Date().toISOString());
        return address;
      })
      .immediate();
  }

  addressOf(vmId: string): string | undefined {
    const row = this.#db.prepare("SELECT address FROM leases WHERE vm_id = ?").get(vmId) as
      { address: string } | undefined;
    return row?.address;
  }

  /** All leases, address → VM id. */
  leases(): Map<string, string> {
    const rows = this.#db.prepare("SELECT address, vm_id FROM leases").all() as {
      address: string;
      vm_id: string;
    }[];
    return new Map(rows.map((r) => [r.address, r.vm_id]));
  }

  releaseAddress(vmId: string): void {
    this.#db.prepare("DELETE FROM leases WHERE vm_id = ?").run(vmId);
  }

  close(): void {
    this.#db.close();
  }
}
