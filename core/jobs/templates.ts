/**
 * The documents of a fleet's job templates, built from the configuration (`jobs.templates`) with the contract's
 * builders and checked with its parser before anything is synthesized.
 *
 * The firmware bucket's name and the region are known only at deploy time (CloudFormation names the bucket), yet
 * the presigned-URL placeholder must name them. So the document is built and checked with markers of the same
 * length or longer in their place, and the job-template construct puts the real values in
 * ({@link substituteDocumentMarkers}): the checks, the 32 KB limit included, hold for the real document.
 * A custom document names them `${fleetkit:firmwareBucket}` and `${fleetkit:region}`.
 */
import {
  assertJobDocument,
  factoryResetDocument,
  firmwareUpdateDocument,
  JobDocumentError,
  rebootDocument,
  serializeJobDocument,
  type BuilderOptions,
} from './document';
import type { ReleaseRecord } from './release';

/** What a template does. `custom`: a document from a file, checked with the contract's parser. */
export const JOB_TEMPLATE_TYPES = ['firmware-update', 'reboot', 'factory-reset', 'custom'] as const;

/** A template type. */
export type JobTemplateType = (typeof JOB_TEMPLATE_TYPES)[number];

/**
 * Stand-ins for the deploy-time values, each at least as long as any real value: a bucket name has at most 63
 * characters; no region name is longer than the marker. Both match the S3 URL pattern the parser checks.
 */
export const DOCUMENT_MARKERS = {
  firmwareBucket: 'fleetkit-firmware-bucket-marker-0000000000000000000000000000000',
  region: 'zz-fleetkitregion-9',
} as const;

/** What a custom document writes for the deploy-time values. */
export const CUSTOM_DOCUMENT_VARIABLES = {
  firmwareBucket: '${fleetkit:firmwareBucket}',
  region: '${fleetkit:region}',
} as const;

/** The S3 object URL of a firmware file, with markers for the bucket and the region. */
export function firmwareS3Url(key: string): string {
  return `https://s3.${DOCUMENT_MARKERS.region}.amazonaws.com/${DOCUMENT_MARKERS.firmwareBucket}/${key}`;
}

/** What a template's document is built from. */
export type TemplateDocumentSpec =
  | { readonly type: 'reboot' | 'factory-reset'; readonly builder?: BuilderOptions }
  | {
      readonly type: 'firmware-update';
      readonly release: ReleaseRecord;
      /** The signing certificate's name on the device (`firmware.signing.signingCertificateName`). */
      readonly signingCertificateName: string;
      readonly builder?: BuilderOptions;
    }
  | { readonly type: 'custom'; readonly text: string };

/**
 * The document's JSON text, with markers for the deploy-time values, checked with the contract's parser (stage
 * `template`).
 *
 * @throws {JobDocumentError} naming what is wrong, for a custom document that breaks the contract or any
 *   document over 32 KB.
 */
export function templateDocumentText(spec: TemplateDocumentSpec): string {
  switch (spec.type) {
    case 'reboot':
      return serializeJobDocument(rebootDocument(spec.builder));
    case 'factory-reset':
      return serializeJobDocument(factoryResetDocument(spec.builder));
    case 'firmware-update': {
      const { release } = spec;
      return serializeJobDocument(
        firmwareUpdateDocument({
          ...spec.builder,
          packageName: release.packageName,
          version: release.version,
          s3Url: firmwareS3Url(release.artifact.key),
          sha256: release.sha256,
          signature: release.signature,
          signingCertificateName: spec.signingCertificateName,
        }),
      );
    }
    case 'custom': {
      const text = spec.text
        .split(CUSTOM_DOCUMENT_VARIABLES.firmwareBucket)
        .join(DOCUMENT_MARKERS.firmwareBucket)
        .split(CUSTOM_DOCUMENT_VARIABLES.region)
        .join(DOCUMENT_MARKERS.region);
      assertJobDocument(text, { stage: 'template' });
      // Compact and otherwise as written (a `_comment` stays): the limit counts the document as sent.
      return JSON.stringify(JSON.parse(text));
    }
    default:
      throw new JobDocumentError(`unknown template type ${(spec as { type: string }).type}`);
  }
}

/** Whether a document (with markers) holds presigned-URL placeholders, so that its template needs a role. */
export function needsPresignedUrls(text: string): boolean {
  return text.includes('${aws:iot:s3-presigned-url');
}

/** Whether the document names the firmware bucket (through a marker). */
export function namesFirmwareBucket(text: string): boolean {
  return text.includes(DOCUMENT_MARKERS.firmwareBucket);
}

/**
 * `text` with the markers replaced by the real values: strings, or (in a construct) tokens that CloudFormation
 * resolves at deploy time.
 */
export function substituteDocumentMarkers(
  text: string,
  values: { readonly firmwareBucket: string; readonly region: string },
): string {
  return text
    .split(DOCUMENT_MARKERS.firmwareBucket)
    .join(values.firmwareBucket)
    .split(DOCUMENT_MARKERS.region)
    .join(values.region);
}
