// Private: the version string an x86 bzImage carries in its setup header, so an imported
// kernel can be listed with the `uname -r` it will report.
import { BangerError } from "../errors/index.js";

const HDRS_OFFSET = 0x202;
const VERSION_PTR_OFFSET = 0x20e;
const SETUP_BASE = 0x200;
const MAX_VERSION_CHARS = 256;

/**
 * The release (`6.1.0-18-cloud-amd64`) from a bzImage's header: "HdrS" at 0x202 and, at 0x20e,
 * a pointer (minus 0x200) to "<release> (<builder>) #…". INVALID_ARGUMENT for anything else.
 */
export function bzImageVersion(image: Buffer, file: string): string {
  const fail = (why: string): never => {
    throw new BangerError("INVALID_ARGUMENT", `cannot import kernel "${file}": ${why}`, {
      hint: "give an x86-64 bzImage, e.g. /boot/vmlinuz-$(uname -r)",
    });
  };
  if (image.length < 0x300 || image.toString("latin1", HDRS_OFFSET, HDRS_OFFSET + 4) !== "HdrS") {
    fail("it is not a bzImage (no HdrS setup header)");
  }
  const start = image.readUInt16LE(VERSION_PTR_OFFSET) + SETUP_BASE;
  if (start >= image.length) fail("its version pointer is out of range");
  const end = image.indexOf(0, start);
  const text = image.toString("latin1", start, end === -1 ? start + MAX_VERSION_CHARS : end);
  const release = text.split(" ")[0] ?? "";
  if (!/^[A-Za-z0-9.+_-]{1,64}$/.test(release)) fail("its version string is unreadable");
  return release;
}
