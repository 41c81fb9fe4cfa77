import { CustomResource, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import {
  IOT_SIGNING_PLATFORM_ID,
  REGISTRY_RESOURCE_TYPES,
  type SigningProfileResourceProperties,
} from '../../core/registry/custom-resources';
import { SIGNING_PROFILE_NAME_PATTERN } from '../../core/limits';
import { validatePattern } from '../validation';
import { RegistryProvider } from './registry-provider';

/** Properties of {@link FirmwareSigningProfile}. */
export interface FirmwareSigningProfileProps {
  /** Fixed: `fleetkit firmware upload --signing-profile` names it. */
  readonly profileName: string;
  /** The code-signing certificate imported into AWS Certificate Manager. */
  readonly certificateArn: string;
}

const ACM_CERTIFICATE_ARN = /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[a-zA-Z0-9-]+$/;

/**
 * The AWS Signer signing profile that signs firmware: platform AWSIoTDeviceManagement-SHA256-ECDSA (ECDSA P-256
 * signatures over SHA-256) with a code-signing certificate imported into ACM. A registry custom resource:
 * AWS::Signer::SigningProfile supports only the Lambda and Notation platforms and has no signing material
 * (docs/custom-resources.md). Retained when removed: a deploy never cancels a signing profile.
 *
 * @see https://docs.aws.amazon.com/signer/latest/developerguide/iot-workflow.html
 */
export class FirmwareSigningProfile extends Construct {
  public readonly profileName: string;
  /** The profile's ARN (`arn:aws:signer:<region>:<account>:/signing-profiles/<name>`). */
  public readonly profileArn: string;
  public readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: FirmwareSigningProfileProps) {
    super(scope, id);
    validatePattern(
      this,
      'profileName',
      props.profileName,
      SIGNING_PROFILE_NAME_PATTERN,
      '2 to 64 of [a-zA-Z0-9_]',
    );
    validatePattern(
      this,
      'certificateArn',
      props.certificateArn,
      ACM_CERTIFICATE_ARN,
      'an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)',
    );
    this.profileName = props.profileName;
    this.profileArn = Stack.of(this).formatArn({
      service: 'signer',
      resource: '/signing-profiles',
      resourceName: props.profileName,
    });
    const provider = RegistryProvider.of(this);
    provider.grant(
      'SigningProfiles',
      ['signer:GetSigningProfile', 'signer:PutSigningProfile'],
      [this.profileArn],
    );
    provider.grant('SigningCertificates', ['acm:DescribeCertificate'], [props.certificateArn]);
    const properties: SigningProfileResourceProperties = {
      profileName: props.profileName,
      platformId: IOT_SIGNING_PLATFORM_ID,
      certificateArn: props.certificateArn,
    };
    this.resource = new CustomResource(this, 'Default', {
      serviceToken: provider.serviceToken,
      resourceType: REGISTRY_RESOURCE_TYPES.signingProfile,
      properties,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
