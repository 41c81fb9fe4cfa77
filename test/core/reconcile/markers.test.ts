import { formatBinding } from '../../../core/onboarding/binding';
import {
  describeMarker,
  FLEETKIT_MARKER_ATTRIBUTE,
  markerOf,
  templateMarkerParts,
} from '../../../core/reconcile/markers';

const CA = 'c'.repeat(64);
const CERT = 'a'.repeat(64);

describe('Fleetkit markers', () => {
  test("JITR's onboarding binding marks a thing, naming its CA and certificate", () => {
    const value = formatBinding({ caCertificateId: CA, certificateId: CERT, attemptId: 'msg-1' });
    expect(markerOf({ [FLEETKIT_MARKER_ATTRIBUTE]: value, site: 'berlin' })).toEqual({
      origin: 'jitr',
      caCertificateId: CA,
      certificateId: CERT,
    });
  });

  test("a derived template's marker names the template and the certificate", () => {
    const value = `${templateMarkerParts('acme-jitp').join('')}${CERT}`;
    expect(value).toBe(`template/acme-jitp/${CERT}`);
    const marker = markerOf({ [FLEETKIT_MARKER_ATTRIBUTE]: value });
    expect(marker).toEqual({ origin: 'template', templateName: 'acme-jitp', certificateId: CERT });
    expect(describeMarker(marker!)).toBe('template acme-jitp');
  });

  test.each([
    ['no attributes', undefined],
    ['no marker', { site: 'berlin' }],
    ['a marker of another shape', { [FLEETKIT_MARKER_ATTRIBUTE]: 'by-hand' }],
    ['a template marker without a certificate ID', { [FLEETKIT_MARKER_ATTRIBUTE]: 'template/acme-jitp/xyz' }],
    [
      'a template marker with an impossible template name',
      { [FLEETKIT_MARKER_ATTRIBUTE]: `template/a.b/${CERT}` },
    ],
  ])('%s is not a Fleetkit thing', (_title, attributes) => {
    expect(markerOf(attributes)).toBeUndefined();
  });
});
