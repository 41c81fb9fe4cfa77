import { adoptedPhysicalId, parsePhysicalId } from '../../../lambda/fleet-registry/adoption';

describe('physical IDs with an adoption record', () => {
  test.each([
    ['sensor', {}, 'sensor|adopted'],
    ['sensor', { deprecated: 'false' }, 'sensor|adopted:deprecated=false'],
    ['acme-device|site-berlin', {}, 'acme-device|site-berlin|adopted'],
    ['fleet-indexing', { thing: 'REGISTRY', group: 'ON' }, 'fleet-indexing|adopted:thing=REGISTRY,group=ON'],
  ])('%s with %j is %s, and reads back', (base, found, id) => {
    expect(adoptedPhysicalId(base, found)).toBe(id);
    expect(parsePhysicalId(id)).toEqual({ base, adopted: found });
  });

  test.each([
    ['sensor'],
    ['acme-device|site-berlin'],
    ['fleet-indexing'],
    // What CloudFormation invents when a Create never answered.
    ['acme-fleet-SensorType-1A2B3C4D'],
    // Not a record: the mark must end the ID or be followed by ':'.
    ['acme-device|site-berlin|adoptedx'],
  ])('%s has no record', (id) => {
    expect(parsePhysicalId(id)).toEqual({ base: id });
  });
});
