// Versioned schema. Each entry runs once, in order, inside a transaction; PRAGMA user_version
// records how far a database has come. Append only: never edit a migration that has shipped.
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE vms (
     id TEXT PRIMARY KEY,
     name TEXT NOT NULL UNIQUE,
     image TEXT NOT NULL,
     kernel TEXT NOT NULL,
     vcpus INTEGER NOT NULL,
     memory_mib INTEGER NOT NULL,
     disk_size_mib INTEGER NOT NULL,
     state TEXT NOT NULL,
     last_error TEXT,
     created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL
   );
   CREATE TABLE leases (
     address TEXT PRIMARY KEY,
     vm_id TEXT NOT NULL UNIQUE REFERENCES vms(id) ON DELETE CASCADE,
     created_at TEXT NOT NULL
   );`,
  // The git checkout last prepared in the VM (JSON: guest path, host path, commit).
  `ALTER TABLE vms ADD COLUMN workspace TEXT;`,
  // Masquerading for the VM's address (`--nat`, `vm set --nat`): 1 on, 0 off.
  `ALTER TABLE vms ADD COLUMN nat INTEGER NOT NULL DEFAULT 0;`,
];
