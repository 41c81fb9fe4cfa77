import { createHash, createSign, generateKeyPairSync } from 'node:crypto';
import { parseJobDocument, JobDocumentError } from '../../../core/jobs/document';
import {
  firmwareObjectKey,
  packageVersionAttributes,
  releaseRecordSchema,
  signatureFromSignedObject,
  type ReleaseRecord,
} from '../../../core/jobs/release';
import {
  DOCUMENT_MARKERS,
  needsPresignedUrls,
  substituteDocumentMarkers,
  templateDocumentText,
} from '../../../core/jobs/templates';
import { jobTemplateId, maxTemplateNameLength, parseJobTemplateId } from '../../../core/jobs/template-id';
import { AWS_MANAGED_TEMPLATE_DOCUMENTS } from './published-documents';

const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const FIRMWARE = Buffer.from('firmware image 1.2.0');
const SIGNATURE_DER = createSign('sha256').update(FIRMWARE).sign({ key: privateKey, dsaEncoding: 'der' });

const release: ReleaseRecord = {
  fleetkitRelease: 1,
  packageName: 'sensor-fw',
  version: '1.2.0',
  artifact: {
    bucket: 'fleet-firmware',
    key: firmwareObjectKey('sensor-fw', '1.2.0', 'fw.bin'),
    objectVersion: 'v1',
  },
  size: FIRMWARE.length,
  sha256: createHash('sha256').update(FIRMWARE).digest('hex'),
  signature: SIGNATURE_DER.toString('base64'),
  signing: {
    jobId: 'job-1',
    profileName: 'fleet_firmware',
    signedObject: { bucket: 'fleet-firmware', key: 'signed/sensor-fw/1.2.0/job-1' },
  },
  uploadedAt: '2026-12-05T10:00:00.000Z',
};

describe('template documents', () => {
  test('a firmware update: download through a presigned URL of the release, verify, install', () => {
    const text = templateDocumentText({
      type: 'firmware-update',
      release,
      signingCertificateName: 'fleet-signer',
    });
    const real = substituteDocumentMarkers(text, {
      firmwareBucket: 'acme-firmware-1a2b',
      region: 'eu-west-1',
    });
    const parsed = parseJobDocument(real, { stage: 'template' });
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.value.placeholders.map((p) => p.value)).toEqual([
      'https://s3.eu-west-1.amazonaws.com/acme-firmware-1a2b/sensor-fw/1.2.0/fw.bin',
    ]);
    expect(parsed.value.operations.map((op) => op.kind)).toEqual([
      'download-file',
      'verify-signature',
      'install-firmware',
    ]);
    expect(parsed.value.operations[1]).toMatchObject({
      sha256: release.sha256,
      signature: release.signature,
      signingCertificateName: 'fleet-signer',
    });
    expect(needsPresignedUrls(text)).toBe(true);
  });

  test("a reboot is AWS-Reboot's document with its parameters filled in (why Fleetkit ships its own)", () => {
    const text = templateDocumentText({ type: 'reboot' });
    const managed = JSON.stringify(AWS_MANAGED_TEMPLATE_DOCUMENTS['AWS-Reboot'])
      .replace('${aws:iot:parameter:pathToHandler}', 'default')
      .replace(',"runAsUser":"${aws:iot:parameter:runAsUser}"', '');
    expect(JSON.parse(text)).toEqual(JSON.parse(managed));
    expect(needsPresignedUrls(text)).toBe(false);
  });

  test('a factory reset runs the contract handler', () => {
    const parsed = parseJobDocument(
      templateDocumentText({ type: 'factory-reset', builder: { runAsUser: 'root' } }),
    );
    expect(parsed.ok && parsed.value.operations).toEqual([
      expect.objectContaining({ kind: 'factory-reset', runAsUser: 'root' }),
    ]);
  });

  test('a custom document: the Fleetkit variables become markers, the rest stays as written, compact', () => {
    const custom = JSON.stringify(
      {
        _comment: 'kept',
        version: '1.0',
        steps: [
          {
            action: {
              name: 'Get',
              type: 'runHandler',
              input: {
                handler: 'download-file.sh',
                args: [
                  '${aws:iot:s3-presigned-url:https://s3.${fleetkit:region}.amazonaws.com/${fleetkit:firmwareBucket}/a.json}',
                  '/tmp/a.json',
                ],
              },
            },
          },
        ],
      },
      null,
      2,
    );
    const text = templateDocumentText({ type: 'custom', text: custom });
    expect(text).not.toContain('\n');
    expect(text).toContain('"_comment":"kept"');
    expect(text).toContain(
      `https://s3.${DOCUMENT_MARKERS.region}.amazonaws.com/${DOCUMENT_MARKERS.firmwareBucket}/a.json`,
    );
  });

  test.each([
    ['not JSON', '{ nope', 'not JSON'],
    [
      'an install without a signature check',
      JSON.stringify({
        version: '1.0',
        steps: [
          {
            action: {
              name: 'i',
              type: 'runHandler',
              input: { handler: 'fleetkit-install-firmware.sh', args: ['/tmp/f', 'p', '1'] },
            },
          },
        ],
      }),
      'without a fleetkit-verify-signature.sh step',
    ],
    [
      'over 32 KB',
      JSON.stringify({
        version: '1.0',
        _comment: 'x'.repeat(33_000),
        steps: [{ action: { name: 'r', type: 'runHandler', input: { handler: 'reboot.sh' } } }],
      }),
      'AWS IoT allows at most 32768',
    ],
  ])('refuses a custom document that is %s', (_name, text, message) => {
    expect(() => templateDocumentText({ type: 'custom', text })).toThrow(JobDocumentError);
    expect(() => templateDocumentText({ type: 'custom', text })).toThrow(message);
  });

  test('the markers are at least as long as any real value, so the 32 KB check holds for the deployed text', () => {
    expect(DOCUMENT_MARKERS.firmwareBucket).toHaveLength(63);
    for (const region of ['ap-southeast-5', 'us-gov-west-1', 'eu-central-2', 'ca-west-1']) {
      expect(DOCUMENT_MARKERS.region.length).toBeGreaterThanOrEqual(region.length);
    }
  });
});

describe('job template IDs', () => {
  test('are <fleet>_<name>_<8 hex of the fingerprint>, and read back', () => {
    const id = jobTemplateId('acme', 'firmware-update', '{"a":1}');
    expect(id).toMatch(/^acme_firmware-update_[0-9a-f]{8}$/);
    expect(parseJobTemplateId(id)).toEqual({
      fleetName: 'acme',
      templateName: 'firmware-update',
      hash: id.slice(-8),
    });
    expect(jobTemplateId('acme', 'firmware-update', '{"a":2}')).not.toBe(id);
    expect(jobTemplateId('acme', 'firmware-update', '{"a":1}')).toBe(id);
  });

  test('leave room for the fleet name within 64 characters', () => {
    const fleet = 'a'.repeat(31);
    const name = 'n'.repeat(maxTemplateNameLength(fleet));
    expect(jobTemplateId(fleet, name, 'x')).toHaveLength(64);
  });

  test.each(['AWS-Reboot', 'acme_fw', 'acme_fw_XYZ12345', 'my template'])(
    '%s is not a Fleetkit template ID',
    (id) => {
      expect(parseJobTemplateId(id)).toBeUndefined();
    },
  );
});

describe('release records', () => {
  test('the record passes its schema, and its attributes fit the catalog', () => {
    expect(releaseRecordSchema.parse(release)).toEqual(release);
    expect(packageVersionAttributes(release)).toEqual({
      sha256: release.sha256,
      signature: release.signature,
      signingJobId: 'job-1',
      signingProfile: 'fleet_firmware',
      size: String(FIRMWARE.length),
    });
  });

  test('finds the signature in a signed object: a JSON signature field, or the DER signature itself', () => {
    expect(
      signatureFromSignedObject(
        Buffer.from(JSON.stringify({ signature: release.signature, rawPayloadSize: 20 })),
      ),
    ).toBe(release.signature);
    expect(signatureFromSignedObject(SIGNATURE_DER)).toBe(release.signature);
    expect(signatureFromSignedObject(FIRMWARE)).toBeUndefined();
    expect(signatureFromSignedObject(Buffer.from('{"signature": 5}'))).toBeUndefined();
    expect(signatureFromSignedObject(Buffer.from('{ broken'))).toBeUndefined();
  });
});
