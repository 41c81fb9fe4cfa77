import type { z } from 'zod';
import { signingProfileResourceSchema } from '../../core/registry/custom-resources';
import { SigningProfileUnusableError } from './errors';
import type { ResourceHandler } from './resource';
import type { SigningProfiles } from './signer-adapter';

/** Parsed properties of `Custom::FleetkitSigningProfile`. */
export type SigningProfileProperties = z.output<typeof signingProfileResourceSchema>;

/**
 * `Custom::FleetkitSigningProfile`: the AWS Signer profile that signs firmware for AWS IoT Device Management.
 *
 * - Create and Update: a profile of that name that is Active with the same platform and certificate is used as
 *   it is (adopted); otherwise PutSigningProfile creates it, or a new version of it (a new certificate). A
 *   Canceled or Revoked profile of that name fails the deploy with what to do: AWS Signer keeps such a name.
 * - Delete: the profile stays. Signatures it made stay valid and describable either way; canceling it is an
 *   operator's decision (`aws signer cancel-signing-profile`), never a side effect of a deploy or a rename.
 *   (The construct also retains the resource, so CloudFormation normally sends no Delete at all.)
 *
 * @see https://docs.aws.amazon.com/signer/latest/developerguide/gs-profile.html
 */
export function createSigningProfileHandler(
  profiles: SigningProfiles,
): ResourceHandler<SigningProfileProperties> {
  return {
    schema: signingProfileResourceSchema,

    async onEvent(request, context) {
      const { profileName, platformId, certificateArn } = request.properties;
      if (request.requestType === 'Delete') {
        context.logger.info('leaving the signing profile in place: a deploy never cancels one', {
          profileName,
        });
        return { PhysicalResourceId: request.physicalResourceId };
      }
      const existing = await profiles.describe(profileName);
      if (existing !== undefined && existing.status !== 'Active') {
        throw new SigningProfileUnusableError(
          `signing profile ${profileName} exists and is ${existing.status}, so it cannot sign; AWS Signer keeps ` +
            'the name of a canceled or revoked profile: set firmware.signing.profileName to a new name and deploy again',
        );
      }
      if (
        existing !== undefined &&
        existing.platformId === platformId &&
        existing.certificateArn === certificateArn
      ) {
        context.logger.info('signing profile is already as declared; using it', {
          profileName,
          profileVersion: existing.profileVersion,
        });
        return {
          PhysicalResourceId: profileName,
          Data: {
            Arn: existing.arn,
            ProfileVersion: existing.profileVersion,
            ProfileVersionArn: existing.profileVersionArn,
          },
        };
      }
      const put = await profiles.put(profileName, platformId, certificateArn);
      context.logger.info(
        existing === undefined ? 'signing profile created' : 'signing profile updated: new version',
        {
          profileName,
          profileVersion: put.profileVersion,
          previousCertificateArn: existing?.certificateArn,
          certificateArn,
        },
      );
      return {
        PhysicalResourceId: profileName,
        Data: { Arn: put.arn, ProfileVersion: put.profileVersion, ProfileVersionArn: put.profileVersionArn },
      };
    },

    isComplete() {
      return Promise.resolve({ IsComplete: true });
    },
  };
}
