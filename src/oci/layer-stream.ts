// Private: a cached layer blob as its uncompressed tar stream, whose SHA-256 is checked against
// the config's diff_id as it flows. zstd goes through the host's `zstd`, since Node 20's zlib
// has none.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { PassThrough, Transform, type Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { BangerError } from "../errors/index.js";
import { tailLines } from "../host/index.js";

const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);
const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);

/** Picks the decoder from the blob's first bytes: tools do not always label layers right. */
export async function openLayer(blobPath: string, diffId: string | undefined): Promise<Readable> {
  const head = await readHead(blobPath, 4);
  let tar: Readable;
  if (head.subarray(0, 2).equals(GZIP_MAGIC))
    tar = chain(createReadStream(blobPath), createGunzip());
  else if (head.equals(ZSTD_MAGIC)) tar = zstdDecode(blobPath);
  else tar = createReadStream(blobPath);
  return diffId === undefined ? tar : chain(tar, checkDigest(diffId, blobPath));
}

/** pipe() that also carries an error downstream, so the consumer never waits forever. */
function chain<T extends NodeJS.WritableStream & Readable>(src: Readable, dst: T): T {
  src.on("error", (err) => dst.destroy(err));
  dst.on("close", () => src.destroy());
  return src.pipe(dst);
}

async function readHead(file: string, bytes: number): Promise<Buffer> {
  const fh = await open(file, "r");
  try {
    const buf = Buffer.alloc(bytes);
    const { bytesRead } = await fh.read(buf, 0, bytes, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

function checkDigest(diffId: string, blobPath: string): Transform {
  const hash = createHash("sha256");
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      done(null, chunk);
    },
    flush(done) {
      const got = `sha256:${hash.digest("hex")}`;
      if (got === diffId) return done();
      done(
        new BangerError(
          "IMAGE_DIGEST_MISMATCH",
          `layer "${blobPath}" unpacks to "${got}", the image config says "${diffId}"`,
          { hint: "the image is inconsistent; pull another tag or rebuild it" },
        ),
      );
    },
  });
}

function zstdDecode(blobPath: string): Readable {
  const out = new PassThrough();
  const child = spawn("zstd", ["-dc", "--", blobPath], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
  child.stdout.pipe(out, { end: false });
  out.on("close", () => child.kill("SIGKILL"));
  child.on("error", (err: NodeJS.ErrnoException) => {
    const missing = err.code === "ENOENT";
    out.destroy(
      new BangerError(
        missing ? "HOST_MISSING_TOOL" : "SUBPROCESS_FAILED",
        missing
          ? 'cannot unpack a zstd layer: "zstd" is not on PATH'
          : `zstd failed: ${err.message}`,
        { hint: "apt-get install zstd", cause: err },
      ),
    );
  });
  child.on("close", (code, sig) => {
    if (code === 0) return out.end();
    const how = sig === null ? `exited with status ${String(code)}` : `killed by ${sig}`;
    const tail = tailLines(stderr, 5);
    out.destroy(
      new BangerError(
        "SUBPROCESS_FAILED",
        `zstd -dc -- ${blobPath}: ${how}${tail ? `\n${tail}` : ""}`,
      ),
    );
  });
  return out;
}
