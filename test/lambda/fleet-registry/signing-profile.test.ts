import {
  GetSigningProfileCommand,
  PutSigningProfileCommand,
  ResourceNotFoundException,
  SignerClient,
  ThrottlingException,
} from '@aws-sdk/client-signer';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { REGISTRY_RESOURCE_TYPES } from '../../../core/registry/custom-resources';
import { createEvent, deleteEvent, handlers, inputsOf, sentCommands, updateEvent } from './fixtures';

const signer = mockClient(SignerClient);
const TYPE = REGISTRY_RESOURCE_TYPES.signingProfile;
const CERT = 'arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-4333-8444-555555555555';
const NEW_CERT = 'arn:aws:acm:us-east-1:123456789012:certificate/99999999-2222-4333-8444-555555555555';
const ARN = 'arn:aws:signer:us-east-1:123456789012:/signing-profiles/acme_firmware';
const PROPERTIES = {
  profileName: 'acme_firmware',
  platformId: 'AWSIoTDeviceManagement-SHA256-ECDSA',
  certificateArn: CERT,
};
const NOT_FOUND = new ResourceNotFoundException({ message: 'not found', $metadata: { httpStatusCode: 404 } });

function existing(status: string, certificateArn = CERT) {
  signer.on(GetSigningProfileCommand, { profileName: 'acme_firmware' }).resolves({
    profileName: 'acme_firmware',
    status: status as 'Active',
    platformId: 'AWSIoTDeviceManagement-SHA256-ECDSA',
    signingMaterial: { certificateArn },
    arn: ARN,
    profileVersion: 'ABCDE12345',
    profileVersionArn: `${ARN}/ABCDE12345`,
  });
}

beforeEach(() => {
  signer.reset();
  signer
    .on(PutSigningProfileCommand)
    .resolves({ arn: ARN, profileVersion: 'NEWVER6789', profileVersionArn: `${ARN}/NEWVER6789` });
});

describe('Custom::FleetkitSigningProfile onEvent', () => {
  test('Create puts the IoT Device Management profile with the ACM certificate', async () => {
    signer.on(GetSigningProfileCommand).rejects(NOT_FOUND);

    const response = await handlers().onEvent(createEvent(TYPE, 'SigningProfile', PROPERTIES));

    expect(inputsOf(signer, PutSigningProfileCommand)).toEqual([
      {
        profileName: 'acme_firmware',
        platformId: 'AWSIoTDeviceManagement-SHA256-ECDSA',
        signingMaterial: { certificateArn: CERT },
      },
    ]);
    expect(response).toEqual({
      PhysicalResourceId: 'acme_firmware',
      Data: { Arn: ARN, ProfileVersion: 'NEWVER6789', ProfileVersionArn: `${ARN}/NEWVER6789` },
    });
  });

  test('Create adopts an Active profile of that name that is already so, without a new version', async () => {
    existing('Active');

    const response = await handlers().onEvent(createEvent(TYPE, 'SigningProfile', PROPERTIES));

    expect(sentCommands(signer)).toEqual(['GetSigningProfileCommand']);
    expect(response.Data).toEqual({
      Arn: ARN,
      ProfileVersion: 'ABCDE12345',
      ProfileVersionArn: `${ARN}/ABCDE12345`,
    });
  });

  test('Update to a new certificate puts a new version of the profile', async () => {
    existing('Active');

    await handlers().onEvent(
      updateEvent(
        TYPE,
        'SigningProfile',
        'acme_firmware',
        { ...PROPERTIES, certificateArn: NEW_CERT },
        PROPERTIES,
      ),
    );

    expect(inputsOf(signer, PutSigningProfileCommand)).toEqual([
      expect.objectContaining({ signingMaterial: { certificateArn: NEW_CERT } }),
    ]);
  });

  test.each(['Canceled', 'Revoked'])(
    'fails on a %s profile of that name, saying to choose another',
    async (status) => {
      existing(status);

      await expect(handlers().onEvent(createEvent(TYPE, 'SigningProfile', PROPERTIES))).rejects.toThrow(
        `signing profile acme_firmware exists and is ${status}, so it cannot sign; AWS Signer keeps the name of a canceled or revoked profile: set firmware.signing.profileName to a new name and deploy again`,
      );
      expect(signer).not.toHaveReceivedCommand(PutSigningProfileCommand);
    },
  );

  test('Delete leaves the profile: a deploy never cancels one', async () => {
    const response = await handlers().onEvent(
      deleteEvent(TYPE, 'SigningProfile', 'acme_firmware', PROPERTIES),
    );

    expect(sentCommands(signer)).toEqual([]);
    expect(response).toEqual({ PhysicalResourceId: 'acme_firmware' });
  });

  test('a throttled Signer fails as transient, naming the call', async () => {
    signer.on(GetSigningProfileCommand).rejects(NOT_FOUND);
    signer
      .on(PutSigningProfileCommand)
      .rejects(new ThrottlingException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 429 } }));

    await expect(handlers().onEvent(createEvent(TYPE, 'SigningProfile', PROPERTIES))).rejects.toMatchObject({
      name: 'IotApiError',
      transient: true,
      message:
        'PutSigningProfile for signing profile acme_firmware failed: ThrottlingException: Rate exceeded',
    });
  });

  test('refuses another platform', async () => {
    await expect(
      handlers().onEvent(
        createEvent(TYPE, 'SigningProfile', { ...PROPERTIES, platformId: 'AWSLambda-SHA384-ECDSA' }),
      ),
    ).rejects.toThrow(/ResourceProperties\.platformId/);
  });
});
