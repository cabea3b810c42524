// Private: the kernel module's record types, re-exported by index.ts.

/** A kernel in the store, ready to boot. */
export interface KernelInfo {
  /** Store name, for example "debian-bookworm-cloud". */
  name: string;
  /** What `uname -r` prints in the guest, for example "6.1.0-57-cloud-amd64". */
  version: string;
  /** Absolute path of the kernel image, inside `<kernelsDir>/<name>/`. */
  kernelPath: string;
  /** Absolute path of banger's base initramfs for this kernel. */
  initrdPath: string;
  /** The Debian package the kernel came from, and the SHA-256 of its .deb. */
  source: { suite: string; package: string; debVersion: string; sha256: string };
  /** When the kernel was added to the store (ISO 8601). */
  createdAt: string;
}

/**
 * A file the guest finds in its root filesystem after boot. `path` is absolute in the guest's
 * root. `mode` holds the permission bits; add S_IFDIR (0o040000) for a directory or S_IFLNK
 * (0o120000) for a symlink whose target is `content`. Owner is always root.
 */
export interface BootFile {
  path: string;
  content: string | Buffer;
  mode: number;
}
