import { CustomResource, Token } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import {
  REGISTRY_RESOURCE_TYPES,
  type CaCertificateResourceProperties,
} from '../../core/registry/custom-resources';
import { iotArn } from '../arn';
import { acknowledgeWildcardResources } from '../nag';
import { lit, ValidationError } from '../validation';
import { RegistryProvider } from './registry-provider';
import { containsPrivateKey } from '../../core/certificates/pem';

/** How the CA proves possession of its key when it is registered. */
export type CaVerification =
  | { readonly kind: 'pem'; readonly verificationCertificatePem: string }
  | { readonly kind: 'kms'; readonly kmsKeyArn: string }
  | { readonly kind: 'none' };

/** Properties of {@link CaCertificate}. */
export interface CaCertificateProps {
  /** The CA's name in the configuration, for messages. */
  readonly name: string;
  /** The CA certificate, PEM. Never the private key. */
  readonly caCertificatePem: string;
  /** The certificate ID AWS IoT will give the CA (SHA-256 of its DER), known at synth from the PEM. */
  readonly caCertificateId: string;
  /**
   * `pem`: DEFAULT mode with a verification certificate you made; `kms`: DEFAULT mode, the verification
   * certificate is made and signed by KMS at deploy; `none`: SNI_ONLY (multi-account) registration.
   */
  readonly verification: CaVerification;
  /** @default 'ACTIVE' */
  readonly status?: 'ACTIVE' | 'INACTIVE';
  /** Register device certificates automatically at first connection (JITR, JITP). @default true */
  readonly autoRegistration?: boolean;
  /** Remove even while its device certificates are ACTIVE. @default false */
  readonly forceRemoval?: boolean;
  /** JITP: the provisioning template AWS IoT runs for this CA's new device certificates. @default - none */
  readonly jitpTemplateName?: string;
}

/**
 * A device CA certificate registered with AWS IoT through the registry provider, which can make the
 * verification certificate with a KMS-held key at deploy time, change status in place, and refuse to remove a
 * CA whose device certificates are still ACTIVE.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/register-CA-cert.html
 */
export class CaCertificate extends Construct {
  /** The CA certificate ID AWS IoT assigns; registration events are published under it. */
  public readonly caCertificateId: string;
  /** The CA certificate's ARN. */
  public readonly caCertificateArn: string;
  /** The underlying custom resource. */
  public readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: CaCertificateProps) {
    super(scope, id);
    if (!Token.isUnresolved(props.caCertificatePem) && containsPrivateKey(props.caCertificatePem)) {
      throw new ValidationError(
        lit`CaCertificatePrivateKey`,
        'caCertificatePem contains a private key: pass only the certificate (the key never goes into a template)',
        this,
      );
    }
    const provider = RegistryProvider.of(this);
    // Describe, update and delete any CA of the account and region: when a CA's PEM changes, CloudFormation deletes
    // the old registration after this policy already names the new one.
    const anyCa = iotArn(this, 'cacert', '*');
    provider.grant(
      'CaCertificateLifecycle',
      ['iot:DescribeCACertificate', 'iot:UpdateCACertificate', 'iot:DeleteCACertificate'],
      [anyCa],
    );
    // Registering a CA, reading the registration code and listing a CA's certificates take no resource in IAM.
    provider.grant(
      'RegisterCaCertificates',
      ['iot:RegisterCACertificate', 'iot:GetRegistrationCode', 'iot:ListCertificatesByCA'],
      ['*'],
    );
    acknowledgeWildcardResources(
      provider.role,
      [anyCa],
      'A CA replacement deletes the old registration, whose ID the policy no longer names; only Describe, Update and Delete of CA certificates are allowed.',
    );
    if (props.verification.kind === 'kms') {
      // Only signing with this one key: the CA's private key never leaves KMS.
      provider.grant(
        `CaKmsSign${props.caCertificateId.slice(0, 12)}`,
        ['kms:Sign', 'kms:GetPublicKey', 'kms:DescribeKey'],
        [props.verification.kmsKeyArn],
      );
    }

    const properties: CaCertificateResourceProperties = {
      name: props.name,
      caCertificatePem: props.caCertificatePem,
      verification: props.verification,
      status: props.status ?? 'ACTIVE',
      autoRegistration: props.autoRegistration ?? true,
      forceRemoval: props.forceRemoval ?? false,
      ...(props.jitpTemplateName !== undefined && { jitpTemplateName: props.jitpTemplateName }),
    };
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: REGISTRY_RESOURCE_TYPES.caCertificate,
      properties,
    });
    // Not the Ref: the physical ID of a CA adopted from the account carries the adoption record.
    this.caCertificateId = this.resource.getAttString('CaCertificateId');
    this.caCertificateArn = this.resource.getAttString('CaCertificateArn');
  }
}
