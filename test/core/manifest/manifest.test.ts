import { CsvParser } from '../../../core/manifest/csv';
import {
  ManifestReader,
  type ManifestDevice,
  type ManifestProblem,
  type ManifestRules,
} from '../../../core/manifest/manifest';
import { maxSerialNumberLength, thingNameOf } from '../../../core/manifest/naming';

const RULES: ManifestRules = {
  thingNamePrefix: 'pump-',
  thingTypes: ['pump-v2', 'pump-v3'],
  defaultThingType: 'pump-v2',
  thingGroups: ['site-lyon', 'site-porto'],
  attributes: ['model', 'site'],
};

/** Reads a whole manifest: the devices and the problems, in order. */
function read(text: string, rules: ManifestRules = RULES) {
  const reader = new ManifestReader(rules);
  const parser = new CsvParser();
  const out: (ManifestDevice | ManifestProblem)[] = [];
  let lastLine = 1;
  for (const item of [...parser.push(text), ...parser.end()]) {
    lastLine = item.line;
    const result = reader.read(item);
    if (result) out.push(result);
  }
  out.push(...reader.finish(lastLine));
  return {
    devices: out.filter((item): item is ManifestDevice => item.kind === 'device'),
    problems: out
      .filter((item): item is ManifestProblem => item.kind === 'problem')
      .map((item) => `line ${item.line}: ${item.message}`),
  };
}

const HEADER = 'serialNumber,thingName,thingType,thingGroup,attributes\n';

describe('ManifestReader', () => {
  test('a good row gives a device: named by rule, the default type, its group and attributes', () => {
    const { devices, problems } = read(`${HEADER}SN0001,,,site-lyon,model=P2;site=lyon\n`);
    expect(problems).toEqual([]);
    expect(devices).toEqual([
      {
        kind: 'device',
        line: 2,
        serialNumber: 'SN0001',
        thingName: 'pump-SN0001',
        thingTypeName: 'pump-v2',
        thingGroupName: 'site-lyon',
        attributes: { model: 'P2', site: 'lyon' },
      },
    ]);
  });

  test('columns in any order and case; a thing name given; fields trimmed; quoted attributes', () => {
    const { devices, problems } = read(
      'Attributes, THINGGROUP ,serialnumber,thingName,thingType\n' +
        '"model=P3; site=porto",site-porto, SN9 ,gateway-9,pump-v3\n',
    );
    expect(problems).toEqual([]);
    expect(devices[0]).toMatchObject({
      serialNumber: 'SN9',
      thingName: 'gateway-9',
      thingTypeName: 'pump-v3',
      thingGroupName: 'site-porto',
      attributes: { model: 'P3', site: 'porto' },
    });
  });

  test('bad rows are reported with their line numbers while good rows proceed', () => {
    const { devices, problems } = read(
      HEADER +
        'SN1,,,site-lyon,model=P2;site=lyon\n' +
        'SN 2,,,site-lyon,model=P2;site=lyon\n' +
        'SN3,pump:3/a,,site-lyon,model=P2;site=lyon\n' +
        'SN4,,pump-v9,site-lyon,model=P2;site=lyon\n' +
        'SN5,,,site-paris,model=P2;site=lyon\n' +
        'SN6,,,site-lyon,model=P 2;site=lyon\n' +
        'SN7,,,site-lyon,site=lyon\n' +
        'SN8,,,site-lyon,model=P2;site=lyon;color=red\n' +
        'SN1,,,site-lyon,model=P2;site=lyon\n' +
        'SN10,pump-SN1,,site-lyon,model=P2;site=lyon\n' +
        'SN11,,,site-lyon\n' +
        ',,,site-lyon,model=P2;site=lyon\n' +
        'SN13,,,,model=P2;site=lyon\n' +
        'SN14,,,site-porto,model=P2;site=porto\n',
    );
    expect(devices.map((device) => [device.line, device.thingName])).toEqual([
      [2, 'pump-SN1'],
      [15, 'pump-SN14'],
    ]);
    expect(problems).toEqual([
      `line 3: serialNumber "SN 2" has a character AWS IoT does not allow in serial numbers (they become part of the thing name) (" "); allowed: letters, digits, ':', '_' and '-'`,
      `line 4: thingName "pump:3/a" has a character AWS IoT does not allow in thing names ("/"); allowed: letters, digits, ':', '_' and '-'`,
      'line 5: thingType "pump-v9" is not in the configuration (allowed: pump-v2, pump-v3)',
      'line 6: thingGroup "site-paris" is not in the configuration (allowed: site-lyon, site-porto)',
      'line 7: attributes: model value "P 2" has a character AWS IoT does not allow in attribute values (" "); allowed: letters, digits and _ . , @ / : # = [ ] -',
      'line 8: attributes: missing model (every device needs model, site)',
      'line 9: attributes: "color" is not an attribute the configuration names (model, site)',
      'line 10: duplicate serialNumber SN1 (first on line 2)',
      'line 11: duplicate thing name pump-SN1 (first on line 2)',
      'line 12: the row has 4 fields; the header has 5',
      'line 13: serialNumber is empty',
      'line 14: thingGroup is empty and the configuration gives no default thing group',
    ]);
  });

  test("a CSV error in a row is that row's problem, with its line", () => {
    const { devices, problems } = read(
      `${HEADER}SN"1,,,site-lyon,model=P2;site=lyon\nSN2,,,site-lyon,model=P2;site=lyon\n`,
    );
    expect(problems).toEqual([
      'line 2: a quote inside unquoted field 1: put the whole field in quotes and double each quote inside it ("")',
    ]);
    expect(devices.map((device) => device.serialNumber)).toEqual(['SN2']);
  });

  test('fails when the file is empty', () => {
    expect(read('').problems).toEqual(['line 1: the manifest is empty: it has no header row']);
    expect(read('\n\n').problems).toEqual(['line 1: the manifest is empty: it has no header row']);
  });

  test('fails when the header has no rows under it', () => {
    expect(read(HEADER).problems).toEqual(['line 1: the manifest has a header but no device rows']);
  });

  test('fails when columns are missing, naming each, and reads no row', () => {
    const { devices, problems } = read('thingName,thingType\npump-1,pump-v2\n');
    expect(devices).toEqual([]);
    expect(problems).toEqual([
      'line 1: the header is not usable: missing column serialNumber, which every device needs; missing column thingGroup: the configuration gives no default group, so every row must name one; missing column attributes: every device needs model, site (name=value;name=value)',
    ]);
  });

  test('fails when a column is unknown or repeated', () => {
    expect(
      read('serialNumber,thing_name,serialNumber\nSN1,x,SN1\n', { ...RULES, attributes: [], thingGroups: [] })
        .problems,
    ).toEqual([
      'line 1: the header is not usable: unknown column "thing_name" (column 2); the columns are serialNumber, thingName, thingType, thingGroup, attributes; column serialNumber appears twice',
    ]);
  });

  test('a type or group when the configuration allows none is refused', () => {
    const rules: ManifestRules = { thingNamePrefix: '', thingTypes: [], thingGroups: [], attributes: [] };
    const { devices, problems } = read(
      'serialNumber,thingType,thingGroup\nSN1,,\nSN2,pump,\nSN3,,lyon\n',
      rules,
    );
    expect(devices).toEqual([
      { kind: 'device', line: 2, serialNumber: 'SN1', thingName: 'SN1', attributes: {} },
    ]);
    expect(problems).toEqual([
      'line 3: thingType "pump": the configuration allows no thing type for bulk provisioning',
      'line 4: thingGroup "lyon": the configuration allows no thing group for bulk provisioning',
    ]);
  });

  test('a serial number too long for the naming rule is refused; the same length with its own name is not', () => {
    const long = 'S'.repeat(maxSerialNumberLength('pump-') + 1);
    const { devices, problems } = read(
      `${HEADER}${long},,,site-lyon,model=P2;site=lyon\n${long},pump-long,,site-lyon,model=P2;site=lyon\n`,
    );
    expect(problems).toEqual([
      `line 2: serialNumber "${long.slice(0, 57)}..." is too long to name the thing "pump-<serial number>": at most 123 characters with this prefix`,
    ]);
    expect(devices.map((device) => device.thingName)).toEqual(['pump-long']);
  });
});

describe('thingNameOf', () => {
  test('is the prefix followed by the serial number, as fleet provisioning names a device', () => {
    expect(thingNameOf('pump-', 'SN1')).toBe('pump-SN1');
    expect(thingNameOf('', 'SN1')).toBe('SN1');
  });

  test('gives nothing for a name AWS IoT would refuse', () => {
    expect(thingNameOf('pump-', 'S/1')).toBeUndefined();
    expect(thingNameOf('p', 'x'.repeat(128))).toBeUndefined();
  });
});
