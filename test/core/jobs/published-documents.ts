/**
 * Job documents as others publish them, for the contract test: the AWS IoT Device Client's sample documents and
 * the AWS managed job templates' documents. Each cites its source; the shapes are kept as published (field names,
 * nesting, string-typed flags), with only illustrative values.
 */

/** Device Client sample documents, keyed by their file name in sample-job-docs/. @see https://github.com/awslabs/aws-iot-device-client/tree/main/sample-job-docs */
export const DEVICE_CLIENT_SAMPLES: Readonly<Record<string, unknown>> = {
  // The one sample still in the old schema: `operation`, `args`, `path`, no `version`.
  'download-file.json': {
    _comment: 'Downloads a file to the device.',
    operation: 'download-file.sh',
    args: ['https://example.com/archive/v1.3.tar.gz', '/tmp/aws-iot-device-client.tar.gz'],
    path: 'default',
  },
  'echo.json': {
    _comment: 'Runs echo on the device.',
    version: '1.0',
    steps: [
      {
        action: {
          name: 'Echo Messages',
          type: 'runHandler',
          input: { handler: 'echo', args: ['Hello IoT World!'] },
        },
      },
    ],
  },
  'install-packages.json': {
    _comment: 'Installs packages.',
    version: '1.0',
    steps: [
      {
        action: {
          name: 'Install Packages',
          type: 'runHandler',
          input: { handler: 'install-packages.sh', args: ['lftp', 'dos2unix'], path: 'default' },
          runAsUser: 'root',
        },
      },
    ],
  },
  'reboot.json': {
    _comment: 'Reboots the device.',
    version: '1.0',
    steps: [
      {
        action: {
          name: 'Reboot Device',
          type: 'runHandler',
          input: { handler: 'reboot.sh' },
          runAsUser: 'root',
        },
      },
    ],
  },
  'run-shellcommand.json': {
    _comment: 'Creates a directory.',
    version: '1.0',
    steps: [
      {
        action: {
          name: 'Create New Directory',
          type: 'runCommand',
          input: { command: 'mkdir,newDir' },
          runAsUser: 'root',
        },
      },
    ],
  },
  // From the Jobs feature README: steps plus a finalStep, ignoreStepFailure as a string.
  'README new-schema example': {
    version: '1.0',
    steps: [
      {
        action: {
          name: 'Install-Packages',
          type: 'runHandler',
          runAsUser: 'root',
          ignoreStepFailure: 'true',
          input: { handler: 'install-packages.sh', args: ['wget'], path: 'default' },
        },
      },
      {
        action: {
          name: 'Download-File',
          type: 'runHandler',
          input: {
            handler: 'download-file.sh',
            args: ['https://example.com/v1.3.tar.gz', '/tmp/Downloaded_File.tar.gz'],
            path: 'default',
          },
          runAsUser: 'root',
        },
      },
    ],
    finalStep: {
      action: {
        name: 'Remove-Packages',
        type: 'runHandler',
        input: { handler: 'remove-packages.sh', args: ['wget'], path: 'default' },
        runAsUser: 'root',
      },
    },
  },
};

/**
 * The AWS managed templates' documents (templates AWS-Reboot and AWS-Download-File), with their
 * `${aws:iot:parameter:...}` placeholders as DescribeManagedJobTemplate returns them.
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/job-templates-managed.html
 */
export const AWS_MANAGED_TEMPLATE_DOCUMENTS = {
  'AWS-Reboot': {
    version: '1.0',
    steps: [
      {
        action: {
          name: 'Reboot',
          type: 'runHandler',
          input: { handler: 'reboot.sh', path: '${aws:iot:parameter:pathToHandler}' },
          runAsUser: '${aws:iot:parameter:runAsUser}',
        },
      },
    ],
  },
  'AWS-Download-File': {
    version: '1.0',
    steps: [
      {
        action: {
          name: 'Download-File',
          type: 'runHandler',
          input: {
            handler: 'download-file.sh',
            args: ['${aws:iot:parameter:downloadUrl}', '${aws:iot:parameter:filePath}'],
            path: '${aws:iot:parameter:pathToHandler}',
          },
          runAsUser: '${aws:iot:parameter:runAsUser}',
        },
      },
    ],
  },
} as const;
