import * as mqttPacket from 'mqtt-packet';
import { decodePacket, encodePacket } from '../../runtime/mqtt/codec';
import {
  encodeRemainingLength,
  MalformedPacketError,
  PACKET_TYPES,
  PacketSplitter,
  packetType,
  readFixedHeader,
} from '../../runtime/mqtt/framing';

describe('remaining length', () => {
  it.each([
    [0, [0x00]],
    [127, [0x7f]],
    [128, [0x80, 0x01]],
    [16_383, [0xff, 0x7f]],
    [16_384, [0x80, 0x80, 0x01]],
    [2_097_151, [0xff, 0xff, 0x7f]],
    [2_097_152, [0x80, 0x80, 0x80, 0x01]],
    [268_435_455, [0xff, 0xff, 0xff, 0x7f]],
  ])('encodes and reads %i as the MQTT variable byte integer', (length, bytes) => {
    expect([...encodeRemainingLength(length)]).toEqual(bytes);
    expect(readFixedHeader(Buffer.from([0x30, ...bytes]))).toEqual({
      remainingLength: length,
      headerLength: 1 + bytes.length,
    });
  });

  it('fails on a fifth length byte', () => {
    expect(() => readFixedHeader(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]))).toThrow(
      MalformedPacketError,
    );
  });

  it('waits for more bytes when the length is not finished', () => {
    expect(readFixedHeader(Buffer.from([0x30, 0x80]))).toBeUndefined();
  });

  it('refuses lengths it cannot encode', () => {
    expect(() => encodeRemainingLength(268_435_456)).toThrow(RangeError);
    expect(() => encodeRemainingLength(-1)).toThrow(RangeError);
  });
});

const publish = (topic: string, payload: string, version: 4 | 5) =>
  mqttPacket.generate(
    { cmd: 'publish', topic, payload: Buffer.from(payload), qos: 1, messageId: 7, retain: false, dup: false },
    { protocolVersion: version },
  );

describe('PacketSplitter', () => {
  it('returns whole packets however the stream is cut, byte by byte included', () => {
    const stream = Buffer.concat([
      publish('a/b', 'one', 4),
      publish('c', 'x'.repeat(300), 4),
      Buffer.from([0xc0, 0x00]),
    ]);
    const splitter = new PacketSplitter();
    const packets: Buffer[] = [];
    for (const byte of stream) packets.push(...splitter.push(Buffer.from([byte])));
    expect(packets.map(packetType)).toEqual([
      PACKET_TYPES.PUBLISH,
      PACKET_TYPES.PUBLISH,
      PACKET_TYPES.PINGREQ,
    ]);
    expect(Buffer.concat(packets)).toEqual(stream);
    expect(splitter.buffered).toBe(0);
  });

  it('returns several packets from one chunk and keeps a partial one', () => {
    const first = publish('a', '1', 5);
    const second = publish('b', '2', 5);
    const splitter = new PacketSplitter();
    const packets = splitter.push(Buffer.concat([first, second.subarray(0, 3)]));
    expect(packets).toEqual([first]);
    expect(splitter.push(second.subarray(3))).toEqual([second]);
  });

  it('refuses the reserved packet type 0 and packets over its limit', () => {
    expect(() => new PacketSplitter().push(Buffer.from([0x00, 0x00]))).toThrow(/reserved/);
    expect(() => new PacketSplitter(10).push(publish('topic', 'payload', 4))).toThrow(/over the limit of 10/);
  });
});

describe('codec', () => {
  it('decodes an MQTT 5 CONNECT with its properties and will', () => {
    const raw = mqttPacket.generate(
      {
        cmd: 'connect',
        protocolId: 'MQTT',
        protocolVersion: 5,
        clientId: 'sensor-1',
        clean: true,
        keepalive: 30,
        properties: { sessionExpiryInterval: 3600, topicAliasMaximum: 8 },
        will: { topic: 'things/sensor-1/lwt', payload: Buffer.from('gone'), qos: 1, retain: false },
      },
      { protocolVersion: 5 },
    );
    expect(decodePacket(raw, 4)).toMatchObject({
      cmd: 'connect',
      protocolVersion: 5,
      clientId: 'sensor-1',
      properties: { sessionExpiryInterval: 3600, topicAliasMaximum: 8 },
      will: { topic: 'things/sensor-1/lwt' },
    });
  });

  it('decodes an MQTT 5 PUBLISH that uses a topic alias', () => {
    const raw = mqttPacket.generate(
      {
        cmd: 'publish',
        topic: '',
        payload: Buffer.from('x'),
        qos: 0,
        retain: false,
        dup: false,
        properties: { topicAlias: 3 },
      },
      { protocolVersion: 5 },
    );
    expect(decodePacket(raw, 5)).toMatchObject({ cmd: 'publish', topic: '', properties: { topicAlias: 3 } });
  });

  it('round-trips SUBSCRIBE and SUBACK in both versions', () => {
    for (const version of [4, 5] as const) {
      const subscribe = encodePacket(
        {
          cmd: 'subscribe',
          messageId: 9,
          subscriptions: [{ topic: '$aws/things/t/jobs/notify-next', qos: 1 }],
        },
        version,
      );
      expect(decodePacket(subscribe, version)).toMatchObject({
        cmd: 'subscribe',
        messageId: 9,
        subscriptions: [{ topic: '$aws/things/t/jobs/notify-next', qos: 1 }],
      });
      const suback = encodePacket({ cmd: 'suback', messageId: 9, granted: [1, 0x80] }, version);
      expect(decodePacket(suback, version)).toMatchObject({
        cmd: 'suback',
        messageId: 9,
        granted: [1, 0x80],
      });
    }
  });

  it('fails with MalformedPacketError on a truncated packet', () => {
    const raw = publish('a/b', 'payload', 4);
    expect(() => decodePacket(raw.subarray(0, raw.length - 3), 4)).toThrow(MalformedPacketError);
  });
});
