// Private, tests only: small real root trees (static busybox), OCI images made from them with
// umoci, and a file-by-file description of a tree (type, mode, owner, content, links).
import { createHash } from "node:crypto";
import {
  chmod,
  chown,
  copyFile,
  link,
  lstat,
  mkdir,
  readdir,
  readFile,
  readlink,
  rm,
  symlink,
  writeFile,
} from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import tar from "tar-stream";
import { run } from "../host/index.js";

export async function umoci(...args: string[]): Promise<void> {
  await run("umoci", args);
}

export async function skopeoPush(
  layout: string,
  tag: string,
  dest: string,
  extra: string[] = [],
): Promise<void> {
  await run("skopeo", [
    "copy",
    "--quiet",
    "--dest-tls-verify=false",
    ...extra,
    `oci:${layout}:${tag}`,
    `docker://${dest}`,
  ]);
}

async function put(
  root: string,
  rel: string,
  body: string,
  mode: number,
  uid = 0,
  gid = 0,
): Promise<void> {
  const file = path.join(root, rel);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, body);
  await chown(file, uid, gid);
  await chmod(file, mode);
}

async function dir(root: string, rel: string, mode: number, uid = 0, gid = 0): Promise<void> {
  const d = path.join(root, rel);
  await mkdir(d, { recursive: true });
  await chown(d, uid, gid);
  await chmod(d, mode);
}

/** The first layer's tree: busybox with links, setuid/setgid files, devices, odd owners. */
export async function fillBaseTree(root: string): Promise<void> {
  await dir(root, "bin", 0o755);
  await copyFile("/bin/busybox", path.join(root, "bin/busybox"));
  await chmod(path.join(root, "bin/busybox"), 0o755);
  await symlink("busybox", path.join(root, "bin/sh"));
  await symlink("/bin/busybox", path.join(root, "bin/ls"));
  await link(path.join(root, "bin/busybox"), path.join(root, "bin/bb-hard"));
  await put(root, "bin/su-test", "#!/bin/sh\n", 0o4755);
  await put(root, "bin/sg-test", "#!/bin/sh\n", 0o2755, 0, 50);
  await put(root, "etc/passwd", "root:x:0:0:root:/root:/bin/sh\n", 0o644);
  await put(root, "etc/motd", "hello\n", 0o644);
  await put(root, "etc/shadow", "root:*:1::::::\n", 0o640, 0, 42);
  await dir(root, "dev", 0o755);
  await run("mknod", ["-m", "666", path.join(root, "dev/null"), "c", "1", "3"]);
  await run("mknod", ["-m", "660", path.join(root, "dev/loop0"), "b", "7", "0"]);
  await chown(path.join(root, "dev/loop0"), 0, 6);
  await dir(root, "run", 0o755);
  await run("mknod", ["-m", "600", path.join(root, "run/initctl"), "p"]);
  await dir(root, "home/user", 0o700, 1000, 1000);
  await put(root, "home/user/.profile", "export PS1='$ '\n", 0o644, 1000, 1000);
  await put(root, "opt/old/a", "a\n", 0o644);
  await put(root, "opt/old/sub/b", "b\n", 0o644);
  await put(root, "var/lib/app/old1", "1\n", 0o644);
  await put(root, "var/lib/app/old2", "2\n", 0o644);
  await dir(root, "tmp", 0o1777);
}

/** The second layer's changes: deletions (whiteouts), a new file, changed content and mode. */
export async function changeTree(root: string): Promise<void> {
  await rm(path.join(root, "etc/motd"));
  await rm(path.join(root, "opt/old"), { recursive: true });
  await put(root, "etc/new", "new\n", 0o600, 7, 7);
  await put(
    root,
    "etc/passwd",
    "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n",
    0o644,
  );
  await chmod(path.join(root, "home/user/.profile"), 0o600);
}

/** One line per path below `root`: type, mode, owner, and content hash, target or device. */
export async function describeTree(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const firstByInode = new Map<number, string>();
  const walk = async (rel: string): Promise<void> => {
    for (const name of (await readdir(path.join(root, rel))).sort()) {
      const r = rel === "" ? name : `${rel}/${name}`;
      const full = path.join(root, r);
      const st = await lstat(full);
      const head = `${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`;
      if (st.isDirectory()) {
        out.set(r, `dir ${head}`);
        await walk(r);
      } else if (st.isSymbolicLink()) out.set(r, `symlink ${head} -> ${await readlink(full)}`);
      else if (st.isFile()) {
        const sum = createHash("sha256")
          .update(await readFile(full))
          .digest("hex")
          .slice(0, 16);
        const first = st.nlink > 1 ? firstByInode.get(st.ino) : undefined;
        if (st.nlink > 1 && first === undefined) firstByInode.set(st.ino, r);
        out.set(r, `file ${head} ${st.size} ${sum}${first === undefined ? "" : ` =${first}`}`);
      } else if (st.isCharacterDevice() || st.isBlockDevice()) {
        out.set(r, `${st.isCharacterDevice() ? "chr" : "blk"} ${head} ${st.rdev}`);
      } else out.set(r, `${st.isFIFO() ? "fifo" : "other"} ${head}`);
    }
  };
  await walk("");
  return out;
}

export type TarEntry = Parameters<ReturnType<typeof tar.pack>["entry"]>[0] & { body?: string };

/** A tar archive of `entries`, in order, as hand-made layers need it. */
export async function makeTar(entries: TarEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const { body, ...header } of entries) {
    await new Promise<void>((resolve, reject) =>
      pack.entry(header, body ?? "", (err) => (err ? reject(err) : resolve())),
    );
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

export async function tarStream(entries: TarEntry[]): Promise<Readable> {
  return Readable.from([await makeTar(entries)]);
}
