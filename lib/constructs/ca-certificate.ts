import { Token } from 'aws-cdk-lib';
import * as iot from 'aws-cdk-lib/aws-iot';
import { Construct } from 'constructs';

/** Properties of {@link CaCertificate}. */
export interface CaCertificateProps {
  /** The CA certificate, PEM. Never the private key. */
  readonly caCertificatePem: string;
  /**
   * Verification certificate signed by the CA, whose CN is the account's registration code (DEFAULT mode).
   * @default - none; required when `certificateMode` is DEFAULT
   */
  readonly verificationCertificatePem?: string;
  /**
   * DEFAULT (one account, proven with a verification certificate) or SNI_ONLY (multi-account registration).
   * @default 'DEFAULT'
   */
  readonly certificateMode?: 'DEFAULT' | 'SNI_ONLY';
  /**
   * Register device certificates signed by this CA automatically when they first connect (JITR, JITP).
   * @default true
   */
  readonly autoRegistration?: boolean;
}

/**
 * A device CA certificate registered with AWS IoT.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/register-CA-cert.html
 */
export class CaCertificate extends Construct {
  /** The CA certificate ID AWS IoT assigns; registration events are published under it. */
  public readonly caCertificateId: string;
  /** The CA certificate's ARN. */
  public readonly caCertificateArn: string;
  /** The underlying L1 resource. */
  public readonly resource: iot.CfnCACertificate;

  constructor(scope: Construct, id: string, props: CaCertificateProps) {
    super(scope, id);
    const mode = props.certificateMode ?? 'DEFAULT';
    if (mode === 'DEFAULT' && props.verificationCertificatePem === undefined) {
      throw new Error(
        `${this.node.path}: verificationCertificatePem is required in DEFAULT mode; issue one for your account's registration code with \`npx fleetkit ca verification-cert\`, or use certificateMode 'SNI_ONLY'`,
      );
    }
    if (mode === 'SNI_ONLY' && props.verificationCertificatePem !== undefined) {
      throw new Error(`${this.node.path}: verificationCertificatePem must not be set in SNI_ONLY mode`);
    }
    if (!Token.isUnresolved(props.caCertificatePem) && /PRIVATE KEY-----/.test(props.caCertificatePem)) {
      throw new Error(
        `${this.node.path}: caCertificatePem contains a private key; pass only the certificate`,
      );
    }

    this.resource = new iot.CfnCACertificate(this, 'Resource', {
      caCertificatePem: props.caCertificatePem,
      verificationCertificatePem: props.verificationCertificatePem,
      certificateMode: mode,
      status: 'ACTIVE',
      autoRegistrationStatus: props.autoRegistration === false ? 'DISABLE' : 'ENABLE',
    });
    this.caCertificateId = this.resource.ref;
    this.caCertificateArn = this.resource.attrArn;
  }
}
