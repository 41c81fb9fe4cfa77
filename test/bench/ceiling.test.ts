import { callsPerDevice, computeCeiling, type OperationCount } from '../../bench/ceiling';

const count = (forwarded: number, throttled = 0, injected = 0): OperationCount => ({
  total: forwarded + throttled + injected,
  forwarded,
  throttled,
  injected,
});

const AWS_DEFAULTS: Record<string, number> = {
  DescribeCertificate: 10,
  UpdateCertificate: 10,
  AttachPolicy: 15,
  CreateThing: 100,
  AttachThingPrincipal: 100,
};
const rateOf = (op: string) => AWS_DEFAULTS[op];

describe('computeCeiling', () => {
  test('is the lowest rate ÷ calls per device over the APIs called, and names that API', () => {
    const ceiling = computeCeiling(
      {
        DescribeCertificate: count(1000),
        UpdateCertificate: count(1000),
        AttachPolicy: count(1000),
        CreateThing: count(1000),
      },
      rateOf,
      1000,
    );
    expect(ceiling.devicesPerSecond).toBe(10);
    expect(ceiling.bindingOperation).toBe('DescribeCertificate');
    expect(ceiling.terms.map((t) => [t.operation, t.devicesPerSecond])).toEqual([
      ['DescribeCertificate', 10],
      ['UpdateCertificate', 10],
      ['AttachPolicy', 15],
      ['CreateThing', 100],
    ]);
  });

  test('measures calls per device: a second DescribeCertificate for 20 % of devices lowers the ceiling to 8.33', () => {
    const ceiling = computeCeiling(
      { DescribeCertificate: count(1200), UpdateCertificate: count(1000) },
      rateOf,
      1000,
    );
    expect(ceiling.devicesPerSecond).toBeCloseTo(10 / 1.2, 6);
    expect(ceiling.bindingOperation).toBe('DescribeCertificate');
  });

  test('an API called twice per device can bind although its rate is higher', () => {
    const ceiling = computeCeiling(
      { DescribeCertificate: count(100), AttachPolicy: count(200) },
      rateOf,
      100,
    );
    expect(ceiling.bindingOperation).toBe('AttachPolicy');
    expect(ceiling.devicesPerSecond).toBe(7.5);
  });

  test('counts injected faults as admitted calls (they spend quota) and throttled calls not at all', () => {
    const ceiling = computeCeiling({ AttachPolicy: count(95, 40, 5) }, rateOf, 100);
    expect(ceiling.terms[0]).toMatchObject({ callsPerDevice: 1, devicesPerSecond: 15 });
  });

  test('ignores APIs without a rate, with an infinite rate, or not called', () => {
    const ceiling = computeCeiling(
      { Unknown: count(500), DescribeCertificate: count(0, 3) },
      (op) => (op === 'Unknown' ? undefined : Number.POSITIVE_INFINITY),
      100,
    );
    expect(ceiling.devicesPerSecond).toBe(Number.POSITIVE_INFINITY);
    expect(ceiling.bindingOperation).toBeUndefined();
    expect(ceiling.terms).toEqual([]);
  });

  test('fails when there are no devices to divide by', () => {
    expect(() => computeCeiling({}, rateOf, 0)).toThrow(RangeError);
  });
});

describe('callsPerDevice', () => {
  test('lists every API called, busiest first, with throttled and injected calls per device', () => {
    expect(
      callsPerDevice({ CreateThing: count(100), DescribeCertificate: count(110, 20), Unused: count(0) }, 100),
    ).toEqual([
      { operation: 'DescribeCertificate', admitted: 1.1, throttled: 0.2, injected: 0 },
      { operation: 'CreateThing', admitted: 1, throttled: 0, injected: 0 },
    ]);
  });
});
