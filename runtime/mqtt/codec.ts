/**
 * Decoding and encoding MQTT 3.1.1 and 5 packet contents, on top of `mqtt-packet`.
 *
 * Why a library here, and framing of our own (`framing.ts`): MQTT 5 packets carry properties (27 kinds, each with
 * its own encoding), which is where a hand-written codec goes wrong; `mqtt-packet` is the codec of mqtt.js and
 * aedes, used by millions of clients, and handles both versions. But it decodes a stream into objects and keeps
 * no bytes, while the front must relay most packets exactly as received. So the front splits the stream itself
 * and hands single packets here only when it must look inside (CONNECT, PUBLISH, SUBSCRIBE, SUBACK, ...).
 *
 * Development and test tooling: part of the local runtime, never deployed.
 *
 * @see https://github.com/mqttjs/mqtt-packet
 */
import * as mqttPacket from 'mqtt-packet';
import { MalformedPacketError } from './framing';

export type { IConnectPacket, IPublishPacket, ISubackPacket, ISubscribePacket, Packet } from 'mqtt-packet';

/** MQTT protocol levels: 3 (3.1), 4 (3.1.1), 5. */
export type ProtocolVersion = 3 | 4 | 5;

/**
 * Decodes one whole packet (as `PacketSplitter` returns it).
 *
 * @param protocolVersion the connection's version; CONNECT carries its own and ignores it.
 * @throws {MalformedPacketError} when the bytes are not a valid packet of that version.
 */
export function decodePacket(raw: Buffer, protocolVersion: ProtocolVersion): mqttPacket.Packet {
  const parser = mqttPacket.parser({ protocolVersion });
  let packet: mqttPacket.Packet | undefined;
  let failure: Error | undefined;
  parser.on('packet', (decoded: mqttPacket.Packet) => {
    packet ??= decoded;
  });
  parser.on('error', (error: Error) => {
    failure ??= error;
  });
  parser.parse(raw);
  if (failure !== undefined) throw new MalformedPacketError(failure.message);
  if (packet === undefined) throw new MalformedPacketError('incomplete packet');
  return packet;
}

/**
 * Encodes a packet for a connection of `protocolVersion`.
 * @throws {Error} from `mqtt-packet` when the packet is invalid for that version.
 */
export function encodePacket(packet: mqttPacket.Packet, protocolVersion: ProtocolVersion): Buffer {
  return mqttPacket.generate(packet, { protocolVersion });
}

/** The protocol level a CONNECT packet asks for. */
export function connectProtocolVersion(connect: mqttPacket.IConnectPacket): ProtocolVersion {
  const version = connect.protocolVersion ?? 4;
  return version === 3 || version === 5 ? version : 4;
}
