import { FleetkitError } from '../../core/errors';
/**
 * MQTT framing: splits a byte stream into whole control packets, so the local runtime's front can relay a
 * packet unchanged (its exact bytes), look inside the ones it must understand, and insert its own packets only
 * between two whole packets.
 *
 * Every MQTT packet, in 3.1.1 and 5, starts with a fixed header: one byte of type and flags, then the remaining
 * length as a variable byte integer (1 to 4 bytes, 7 bits each, the high bit meaning "more"). The framing does
 * not depend on the protocol version, so this file does not either; packet contents are decoded in `codec.ts`.
 *
 * Development and test tooling: part of the local runtime, never deployed.
 *
 * @see https://docs.oasis-open.org/mqtt/mqtt/v5.0/os/mqtt-v5.0-os.html#_Toc3901020
 * @see https://docs.oasis-open.org/mqtt/mqtt/v3.1.1/os/mqtt-v3.1.1-os.html#_Toc398718019
 */

/** MQTT control packet types (the high nibble of the first byte). */
export const PACKET_TYPES = {
  CONNECT: 1,
  CONNACK: 2,
  PUBLISH: 3,
  PUBACK: 4,
  PUBREC: 5,
  PUBREL: 6,
  PUBCOMP: 7,
  SUBSCRIBE: 8,
  SUBACK: 9,
  UNSUBSCRIBE: 10,
  UNSUBACK: 11,
  PINGREQ: 12,
  PINGRESP: 13,
  DISCONNECT: 14,
  AUTH: 15,
} as const;

/** The largest remaining length a variable byte integer of 4 bytes can hold (256 MB). */
export const MAX_REMAINING_LENGTH = 268_435_455;

/** The stream is not MQTT: a reserved packet type, a remaining length over 4 bytes, or a packet over the limit. */
export class MalformedPacketError extends FleetkitError {
  override readonly name = 'MalformedPacketError';
}

/** The type of a whole packet (1 CONNECT ... 15 AUTH). */
export function packetType(packet: Buffer): number {
  return packet[0]! >> 4;
}

/**
 * Reads the remaining length at `offset + 1`.
 * @returns the length and the size of the fixed header, or `undefined` when the bytes so far do not finish it.
 * @throws {MalformedPacketError} when the variable byte integer runs over 4 bytes.
 */
export function readFixedHeader(
  buffer: Buffer,
  offset = 0,
): { remainingLength: number; headerLength: number } | undefined {
  let value = 0;
  let multiplier = 1;
  for (let i = 0; i < 4; i++) {
    const index = offset + 1 + i;
    if (index >= buffer.length) return undefined;
    const byte = buffer[index]!;
    value += (byte & 0x7f) * multiplier;
    if ((byte & 0x80) === 0) return { remainingLength: value, headerLength: 2 + i };
    multiplier *= 128;
  }
  throw new MalformedPacketError('the remaining length is longer than 4 bytes');
}

/** Encodes a remaining length as a variable byte integer. */
export function encodeRemainingLength(length: number): Buffer {
  if (!Number.isInteger(length) || length < 0 || length > MAX_REMAINING_LENGTH) {
    throw new RangeError(`remaining length ${length} is outside 0..${MAX_REMAINING_LENGTH}`);
  }
  const bytes: number[] = [];
  let rest = length;
  do {
    let byte = rest % 128;
    rest = Math.floor(rest / 128);
    if (rest > 0) byte |= 0x80;
    bytes.push(byte);
  } while (rest > 0);
  return Buffer.from(bytes);
}

/**
 * Splits a byte stream into whole packets. Feed it every chunk as it arrives; it returns the packets the chunk
 * completes (possibly none) and keeps the rest for the next chunk.
 */
export class PacketSplitter {
  private pending: Buffer = Buffer.alloc(0);

  /** @param maxPacketSize the largest whole packet accepted, in bytes (fixed header included). */
  constructor(private readonly maxPacketSize: number = MAX_REMAINING_LENGTH + 5) {}

  /**
   * @throws {MalformedPacketError} for a reserved packet type (0), a bad remaining length or a packet over
   *   `maxPacketSize`; the stream cannot be resynchronised after that, so the connection must be closed.
   */
  push(chunk: Buffer): Buffer[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const packets: Buffer[] = [];
    let offset = 0;
    for (;;) {
      if (offset >= this.pending.length) break;
      if (this.pending[offset]! >> 4 === 0) throw new MalformedPacketError('packet type 0 is reserved');
      const header = readFixedHeader(this.pending, offset);
      if (header === undefined) break;
      const total = header.headerLength + header.remainingLength;
      if (total > this.maxPacketSize) {
        throw new MalformedPacketError(
          `a packet of ${total} bytes is over the limit of ${this.maxPacketSize}`,
        );
      }
      if (offset + total > this.pending.length) break;
      packets.push(this.pending.subarray(offset, offset + total));
      offset += total;
    }
    this.pending = offset === 0 ? this.pending : Buffer.from(this.pending.subarray(offset));
    return packets;
  }

  /** Bytes received that do not yet make a whole packet. */
  get buffered(): number {
    return this.pending.length;
  }
}
