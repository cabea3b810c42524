import { BangerError } from "../errors/index.js";

/** An OpenSSH public key, checked: its type, its base64 blob and the canonical line. */
export interface PublicKey {
  type: string;
  base64: string;
  /** `<type> <base64> [comment]` on one line. */
  line: string;
}

const KEY_TYPE = /^[a-z0-9][a-z0-9@.-]*$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Parses the first line of `text` as an OpenSSH public key. The blob must name the same type as
 * the line (as ssh checks), so a truncated or spliced key is refused. Throws INVALID_ARGUMENT
 * naming `source`.
 */
export function parsePublicKey(text: string, source: string): PublicKey {
  const firstLine = text.split("\n", 1)[0]?.trim() ?? "";
  const [type = "", base64 = "", ...comment] = firstLine.split(/[ \t]+/);
  const invalid = (why: string): BangerError =>
    new BangerError("INVALID_ARGUMENT", `invalid SSH public key from "${source}": ${why}`, {
      hint: "regenerate it with `ssh-keygen -t ed25519`",
    });

  if (!KEY_TYPE.test(type)) throw invalid(`"${type.slice(0, 40)}" is not a key type`);
  if (!BASE64.test(base64)) throw invalid("the key data is not base64");
  if (blobType(Buffer.from(base64, "base64")) !== type) {
    throw invalid(`the key data is not a "${type}" key`);
  }
  const safeComment = comment.join(" ").replace(/[^\x20-\x7e]/g, "");
  const line = safeComment === "" ? `${type} ${base64}` : `${type} ${base64} ${safeComment}`;
  return { type, base64, line };
}

// A public key blob is a run of SSH strings (32-bit big-endian length, then bytes), the first
// being the key type; a blob whose strings do not end exactly at its end is truncated or padded.
function blobType(blob: Buffer): string | undefined {
  const fields: Buffer[] = [];
  let offset = 0;
  while (offset < blob.length) {
    if (offset + 4 > blob.length) return undefined;
    const length = blob.readUInt32BE(offset);
    if (offset + 4 + length > blob.length) return undefined;
    fields.push(blob.subarray(offset + 4, offset + 4 + length));
    offset += 4 + length;
  }
  if (fields.length < 2) return undefined;
  return fields[0]?.toString("latin1");
}
