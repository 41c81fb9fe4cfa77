/**
 * How Fleetkit marks the things it creates at run time, so that reconciliation and cleanup touch only those: the
 * thing attribute `fleetkitOnboardedBy`, which names the certificate onboarded with the thing.
 *
 * - JITR writes the onboarding binding `<caCertificateId>/<certificateId>/<attemptId>` (core/onboarding/binding.ts).
 * - The JITP and fleet provisioning templates Fleetkit derives write `template/<templateName>/<certificateId>`
 *   (the certificate from the template parameter `AWS::IoT::Certificate::Id`).
 *
 * A template of your own (`jitp.templateFile`, `fleetProvisioning.templateFile`) marks its things only if it writes
 * the attribute the same way ({@link templateMarkerParts}); things without it are never touched.
 */
import { ONBOARDING_BINDING_ATTRIBUTE, parseBinding } from '../onboarding/binding';

/** The attribute that marks a thing Fleetkit created. The JITR binding's attribute: one attribute for both. */
export const FLEETKIT_MARKER_ATTRIBUTE = ONBOARDING_BINDING_ATTRIBUTE;

/** What created a thing, and the certificate it was created for. */
export type FleetkitMarker =
  | { readonly origin: 'jitr'; readonly caCertificateId: string; readonly certificateId: string }
  | { readonly origin: 'template'; readonly templateName: string; readonly certificateId: string };

const TEMPLATE_MARKER = /^template\/([0-9A-Za-z_-]{1,36})\/([0-9a-f]{64})$/;

/**
 * The literal parts of a template's marker around the certificate ID: a template writes
 * `Fn::Join ['', [...parts, {Ref: 'AWS::IoT::Certificate::Id'}]]`.
 */
export function templateMarkerParts(templateName: string): readonly [string, string, string] {
  return ['template/', templateName, '/'];
}

/** Reads a thing's attributes; `undefined` when the thing carries no Fleetkit marker. */
export function markerOf(
  attributes: Readonly<Record<string, string>> | undefined,
): FleetkitMarker | undefined {
  const value = attributes?.[FLEETKIT_MARKER_ATTRIBUTE];
  if (value === undefined) return undefined;
  const binding = parseBinding(value);
  if (binding !== undefined) {
    return { origin: 'jitr', caCertificateId: binding.caCertificateId, certificateId: binding.certificateId };
  }
  const template = TEMPLATE_MARKER.exec(value);
  if (template !== null) {
    return { origin: 'template', templateName: template[1]!, certificateId: template[2]! };
  }
  return undefined;
}

/** `JITR (CA <id>)` or `template <name>`: what created the thing, for reports. */
export function describeMarker(marker: FleetkitMarker): string {
  return marker.origin === 'jitr'
    ? `JITR (CA ${marker.caCertificateId.slice(0, 12)}…)`
    : `template ${marker.templateName}`;
}
