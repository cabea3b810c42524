// Private: telling a static executable from a dynamic one, so a dynamic busybox never ends up
// in an initramfs that has no libc (the kernel would only say "error -2" running /init).
import { BangerError } from "../errors/index.js";

const PT_INTERP = 3;

/**
 * Throws INITRD_BUILD_FAILED unless `elf` is a 64-bit little-endian ELF executable without a
 * program interpreter (PT_INTERP), that is, one that runs without a dynamic loader.
 */
export function checkStaticElf(elf: Buffer, file: string): void {
  const fail = (why: string): never => {
    throw new BangerError("INITRD_BUILD_FAILED", `cannot use busybox "${file}": ${why}`, {
      hint: "apt-get install busybox-static",
    });
  };
  if (elf.length < 64 || elf.readUInt32BE(0) !== 0x7f454c46) fail("it is not an ELF file");
  if (elf[4] !== 2 || elf[5] !== 1) fail("it is not a 64-bit little-endian ELF file");

  const phoff = Number(elf.readBigUInt64LE(32));
  const phentsize = elf.readUInt16LE(54);
  const phnum = elf.readUInt16LE(56);
  if (phentsize < 4 || phoff + phentsize * phnum > elf.length) fail("its program headers are cut");
  for (let i = 0; i < phnum; i++) {
    if (elf.readUInt32LE(phoff + i * phentsize) === PT_INTERP) {
      fail("it is dynamically linked");
    }
  }
}
