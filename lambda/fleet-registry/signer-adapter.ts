import {
  GetSigningProfileCommand,
  PutSigningProfileCommand,
  ResourceNotFoundException,
  SignerClient,
} from '@aws-sdk/client-signer';
import { awsClientConfig } from '../../core/aws-client-config';
import { IotApiError } from './errors';
import { isTransient } from './iot-adapter';

/** A signing profile as GetSigningProfile describes it (the fields the provider reads). */
export interface SigningProfileDescription {
  readonly profileName: string;
  /** Active, Canceled or Revoked. */
  readonly status: string;
  readonly platformId: string;
  readonly certificateArn?: string;
  readonly arn: string;
  readonly profileVersion: string;
  readonly profileVersionArn: string;
}

/** The ARN and version of a signing profile after PutSigningProfile. */
export interface PutSigningProfileResult {
  readonly arn: string;
  readonly profileVersion: string;
  readonly profileVersionArn: string;
}

/** The AWS Signer calls the signing profile resource makes. */
export interface SigningProfiles {
  /** @returns the profile, or undefined when none of that name exists. */
  describe(profileName: string): Promise<SigningProfileDescription | undefined>;
  /** Creates the profile, or a new version of it (PutSigningProfile on an existing name). */
  put(profileName: string, platformId: string, certificateArn: string): Promise<PutSigningProfileResult>;
}

/**
 * Signing profiles over a Signer client: the only file of the provider that imports it. The role needs
 * signer:GetSigningProfile and signer:PutSigningProfile on the profile, and acm:DescribeCertificate on the
 * certificate it signs with.
 *
 * @see https://docs.aws.amazon.com/signer/latest/api/API_PutSigningProfile.html
 */
export function signerSigningProfiles(client: SignerClient): SigningProfiles {
  const call = async <T>(operation: string, subject: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      throw new IotApiError(operation, subject, isTransient(error), error);
    }
  };
  return {
    async describe(profileName) {
      let out;
      try {
        out = await client.send(new GetSigningProfileCommand({ profileName }));
      } catch (error) {
        if (error instanceof ResourceNotFoundException) return undefined;
        throw new IotApiError(
          'GetSigningProfile',
          `signing profile ${profileName}`,
          isTransient(error),
          error,
        );
      }
      return {
        profileName,
        status: out.status ?? 'Active',
        platformId: out.platformId ?? '',
        ...(out.signingMaterial?.certificateArn !== undefined && {
          certificateArn: out.signingMaterial.certificateArn,
        }),
        arn: out.arn ?? '',
        profileVersion: out.profileVersion ?? '',
        profileVersionArn: out.profileVersionArn ?? '',
      };
    },
    async put(profileName, platformId, certificateArn) {
      const out = await call('PutSigningProfile', `signing profile ${profileName}`, () =>
        client.send(
          new PutSigningProfileCommand({ profileName, platformId, signingMaterial: { certificateArn } }),
        ),
      );
      return {
        arn: out.arn ?? '',
        profileVersion: out.profileVersion ?? '',
        profileVersionArn: out.profileVersionArn ?? '',
      };
    },
  };
}

/**
 * Signing profiles over a Signer client built with Fleetkit's shared settings, created on first use so that a
 * provider that never handles a signing profile never builds one.
 */
export function createSigningProfiles(options: { maxAttempts: number }): SigningProfiles {
  let profiles: SigningProfiles | undefined;
  const get = () =>
    (profiles ??= signerSigningProfiles(
      new SignerClient(awsClientConfig({ maxAttempts: options.maxAttempts })),
    ));
  return {
    describe: (profileName) => get().describe(profileName),
    put: (profileName, platformId, certificateArn) => get().put(profileName, platformId, certificateArn),
  };
}
