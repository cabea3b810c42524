// Private: DNS over TCP (RFC 7766): 2-byte length framing, several queries per connection,
// replies in completion order, an idle timeout, and back-pressure on slow readers.
import type { Socket } from "node:net";
import type { Respond } from "./responder.js";

export interface TcpLimits {
  /** A connection with no traffic for this long is closed. */
  idleTimeoutMs: number;
  /** Queries of one connection answered concurrently; reading pauses beyond it. */
  maxPendingQueries: number;
}

const HEADER_BYTES = 12;

export function serveTcpConnection(socket: Socket, respond: Respond, limits: TcpLimits): void {
  let buffered: Buffer = Buffer.alloc(0);
  let pending = 0;

  socket.setNoDelay(true);
  socket.setTimeout(limits.idleTimeoutMs, () => socket.destroy());
  // A peer resetting the connection is routine; there is nobody to report it to.
  socket.on("error", () => undefined);
  socket.on("drain", () => readMore());
  socket.on("data", (chunk: Buffer) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    readMore();
  });

  // Zone replies arrive synchronously, inside the loop; re-entering it would nest one stack
  // frame per query of a large chunk, so a nested call only lets the running loop go on.
  let reading = false;
  const readMore = (): void => {
    if (reading) return;
    reading = true;
    try {
      readFrames();
    } finally {
      reading = false;
    }
    const blocked = pending >= limits.maxPendingQueries || socket.writableNeedDrain;
    if (blocked) socket.pause();
    else socket.resume();
  };

  const readFrames = (): void => {
    while (!socket.destroyed && pending < limits.maxPendingQueries && buffered.length >= 2) {
      const length = buffered.readUInt16BE(0);
      // A frame too short for a header cannot be answered, and the stream has lost its sync.
      if (length < HEADER_BYTES) {
        socket.destroy();
        return;
      }
      if (buffered.length < 2 + length) return;
      const query = buffered.subarray(2, 2 + length);
      buffered = buffered.subarray(2 + length);
      pending++;
      respond(query, onReply);
    }
  };

  const onReply = (reply: Buffer | undefined): void => {
    pending--;
    if (reply !== undefined && !socket.destroyed) {
      const frame = Buffer.allocUnsafe(2 + reply.length);
      frame.writeUInt16BE(reply.length, 0);
      reply.copy(frame, 2);
      socket.write(frame);
    }
    readMore();
  };
}
