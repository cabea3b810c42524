// Private: a writer for the "newc" cpio format (the one the kernel unpacks as an initramfs).

export const S_IFMT = 0o170000;
export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;
export const S_IFCHR = 0o020000;

export type CpioEntry =
  | { kind: "dir"; name: string; mode: number }
  | { kind: "file"; name: string; mode: number; data: Buffer }
  | { kind: "symlink"; name: string; target: string }
  | { kind: "chardev"; name: string; mode: number; major: number; minor: number };

const MAGIC = "070701";
const TRAILER = "TRAILER!!!";
const MAX_FIELD = 0xffffffff;

/**
 * The newc archive holding `entries` in order, owned by root, ending with the trailer. Names are
 * stored without the leading slash. Parents must come before their children (the kernel does
 * not create missing directories).
 */
export function writeCpio(entries: readonly CpioEntry[], mtimeSec: number): Buffer {
  const parts: Buffer[] = [];
  let ino = 1000;
  for (const entry of entries) {
    parts.push(...encodeEntry(entry, ino++, mtimeSec));
  }
  parts.push(...encodeRecord({ name: TRAILER, ino: 0, mode: 0, nlink: 1, mtimeSec: 0 }));
  return Buffer.concat(parts);
}

function encodeEntry(entry: CpioEntry, ino: number, mtimeSec: number): Buffer[] {
  const name = entry.name.replace(/^\/+/, "");
  switch (entry.kind) {
    case "dir":
      return encodeRecord({ name, ino, mode: S_IFDIR | perm(entry.mode), nlink: 2, mtimeSec });
    case "file":
      return encodeRecord({
        name,
        ino,
        mode: S_IFREG | perm(entry.mode),
        nlink: 1,
        mtimeSec,
        data: entry.data,
      });
    case "symlink":
      return encodeRecord({
        name,
        ino,
        mode: S_IFLNK | 0o777,
        nlink: 1,
        mtimeSec,
        data: Buffer.from(entry.target, "utf8"),
      });
    case "chardev":
      return encodeRecord({
        name,
        ino,
        mode: S_IFCHR | perm(entry.mode),
        nlink: 1,
        mtimeSec,
        rdev: [entry.major, entry.minor],
      });
  }
}

interface RawRecord {
  name: string;
  ino: number;
  mode: number;
  nlink: number;
  mtimeSec: number;
  data?: Buffer;
  rdev?: [number, number];
}

function encodeRecord(rec: RawRecord): Buffer[] {
  const nameBytes = Buffer.from(`${rec.name}\0`, "utf8");
  const data = rec.data ?? Buffer.alloc(0);
  const fields = [
    rec.ino,
    rec.mode,
    0, // uid
    0, // gid
    rec.nlink,
    rec.mtimeSec,
    data.length,
    0, // devmajor
    0, // devminor
    rec.rdev?.[0] ?? 0,
    rec.rdev?.[1] ?? 0,
    nameBytes.length,
    0, // check: only used by the "crc" variant
  ];
  const header = MAGIC + fields.map((v) => hex8(v, rec.name)).join("");
  const head = Buffer.concat([Buffer.from(header, "ascii"), nameBytes]);
  return [head, pad4(head.length), data, pad4(data.length)];
}

function hex8(value: number, name: string): string {
  if (!Number.isInteger(value) || value < 0 || value > MAX_FIELD) {
    throw new RangeError(`cpio field out of range for "${name}": ${value} (limit ${MAX_FIELD})`);
  }
  return value.toString(16).padStart(8, "0");
}

function pad4(length: number): Buffer {
  return Buffer.alloc((4 - (length % 4)) % 4);
}

function perm(mode: number): number {
  return mode & 0o7777;
}
