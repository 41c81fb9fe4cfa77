/**
 * The local runtime's view of the control plane (moto plus the overlay's state): what the front asks for every
 * connection, with short-lived caches so that a thousand devices connecting do not ask moto a thousand times for
 * the same CA or policy.
 *
 * Development and test tooling: never deployed.
 */
import {
  DescribeCACertificateCommand,
  DescribeCertificateCommand,
  GetPolicyCommand,
  IoTClient,
  ListAttachedPoliciesCommand,
  ListPrincipalThingsCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-iot';
import { isIssuedBy } from '../../core/certificates/inspect';
import type { RegisteredCa } from '../front/connect-decision';
import { compilePolicy, type CompiledPolicy } from '../front/policy';
import type { ControlPlaneState } from './overlay';

/** A certificate in the registry. */
export interface RegisteredCertificate {
  readonly certificateId: string;
  readonly certificateArn: string;
  readonly status: string;
}

/** How long CA and policy lookups are kept. Short: an operator's change takes effect at the next connect. */
const CACHE_MS = 2000;

/** Lookups in the local control plane. */
export class Registry {
  private cas?: { at: number; value: Promise<RegisteredCa[]> };
  private readonly policies = new Map<string, { at: number; value: Promise<CompiledPolicy> }>();

  constructor(
    readonly iot: IoTClient,
    readonly state: ControlPlaneState,
    private readonly now: () => number = Date.now,
  ) {
    state.onChange(() => {
      this.cas = undefined;
    });
  }

  /** The certificate with this ID (SHA-256 of its DER), or undefined when it is not registered. */
  async certificate(certificateId: string): Promise<RegisteredCertificate | undefined> {
    try {
      const { certificateDescription: d } = await this.iot.send(
        new DescribeCertificateCommand({ certificateId }),
      );
      return { certificateId, certificateArn: d!.certificateArn!, status: d!.status! };
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return undefined;
      throw error;
    }
  }

  /** Every CA registered through the control-plane endpoint, with its status, auto-registration and template. */
  registeredCas(): Promise<RegisteredCa[]> {
    if (this.cas === undefined || this.now() - this.cas.at > CACHE_MS) {
      const value = this.loadCas();
      value.catch(() => {
        this.cas = undefined;
      });
      this.cas = { at: this.now(), value };
    }
    return this.cas.value;
  }

  private async loadCas(): Promise<RegisteredCa[]> {
    const cas: RegisteredCa[] = [];
    for (const [certificateId, autoRegistration] of this.state.caAutoRegistration) {
      try {
        const out = await this.iot.send(new DescribeCACertificateCommand({ certificateId }));
        const config = out.registrationConfig;
        cas.push({
          certificateId,
          certificatePem: out.certificateDescription!.certificatePem!,
          status: out.certificateDescription!.status!,
          autoRegistration,
          ...(config?.templateName && { templateName: config.templateName }),
          ...(config?.templateBody && { templateBody: config.templateBody }),
        });
      } catch (error) {
        if (!(error instanceof ResourceNotFoundException)) throw error;
      }
    }
    return cas;
  }

  /** The registered CA whose key signed this certificate, if any. */
  async issuingCa(certificatePem: string): Promise<RegisteredCa | undefined> {
    for (const ca of await this.registeredCas()) {
      if (isIssuedBy(certificatePem, ca.certificatePem)) return ca;
    }
    return undefined;
  }

  /** Things the certificate is attached to. */
  async attachedThings(certificateArn: string): Promise<string[]> {
    const { things } = await this.iot.send(new ListPrincipalThingsCommand({ principal: certificateArn }));
    return things ?? [];
  }

  /** The policies attached to the certificate, parsed. */
  async policiesOf(certificateArn: string): Promise<CompiledPolicy[]> {
    const { policies } = await this.iot.send(
      new ListAttachedPoliciesCommand({ target: certificateArn, pageSize: 100 }),
    );
    return Promise.all((policies ?? []).map((policy) => this.policy(policy.policyName!)));
  }

  private policy(name: string): Promise<CompiledPolicy> {
    const cached = this.policies.get(name);
    if (cached !== undefined && this.now() - cached.at <= CACHE_MS) return cached.value;
    const value = this.iot
      .send(new GetPolicyCommand({ policyName: name }))
      .then((out) => compilePolicy(name, out.policyDocument ?? '{}'));
    value.catch(() => this.policies.delete(name));
    this.policies.set(name, { at: this.now(), value });
    return value;
  }
}

/** `arn:<partition>:iot:<region>:<account>:` from any IoT ARN. */
export function arnPrefixOf(arn: string): string {
  const parts = arn.split(':');
  return `${parts.slice(0, 5).join(':')}:`;
}
