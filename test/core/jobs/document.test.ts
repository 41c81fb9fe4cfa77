import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  assertJobDocument,
  factoryResetDocument,
  findPlaceholders,
  firmwareUpdateDocument,
  FLEETKIT_JOB_CONTRACT_VERSION,
  HANDLER_ARGUMENT_NAMES,
  HANDLERS,
  JobDocumentError,
  parseJobDocument,
  rebootDocument,
  serializeJobDocument,
  splitCommand,
  type FirmwareUpdateOptions,
  type JobDocument,
} from '../../../core/jobs/document';
import { JOB_DOCUMENT_LIMITS } from '../../../core/limits';
import { AWS_MANAGED_TEMPLATE_DOCUMENTS, DEVICE_CLIENT_SAMPLES } from './published-documents';

const SHA = 'a'.repeat(64);
const SIGNATURE = 'MEUCIQDx'.padEnd(96, 'A');

const firmware: FirmwareUpdateOptions = {
  packageName: 'sensor-fw',
  version: '1.2.0',
  s3Url: 'https://s3.eu-west-1.amazonaws.com/fleet-firmware/sensor-fw/1.2.0.bin',
  sha256: SHA,
  signature: SIGNATURE,
  signingCertificateName: 'fleet-signer',
};

function step(handler: string, args?: string[], extra: Record<string, unknown> = {}): { action: unknown } {
  return {
    action: {
      name: `run ${handler}`,
      type: 'runHandler',
      input: { handler, ...(args ? { args } : {}) },
      ...extra,
    },
  };
}

function doc(...steps: unknown[]): unknown {
  return { version: '1.0', steps };
}

function reasonOf(input: unknown, stage: 'template' | 'device' = 'template'): string {
  const result = parseJobDocument(input, { stage });
  if (result.ok) throw new Error('expected the document to be refused');
  expect(result.error).toBeInstanceOf(JobDocumentError);
  return result.error.message;
}

describe('builders', () => {
  it('builds a firmware update as download, verify, install with the presigned-URL placeholder', () => {
    const document = firmwareUpdateDocument(firmware);
    const path = '/var/tmp/fleetkit/sensor-fw-1.2.0.bin';
    expect(document).toEqual({
      version: '1.0',
      steps: [
        {
          action: {
            name: 'Download-Firmware',
            type: 'runHandler',
            input: {
              handler: 'download-file.sh',
              args: [`\${aws:iot:s3-presigned-url:${firmware.s3Url}}`, path],
              path: 'default',
            },
          },
        },
        {
          action: {
            name: 'Verify-Signature',
            type: 'runHandler',
            input: {
              handler: 'fleetkit-verify-signature.sh',
              args: [path, SHA, SIGNATURE, 'fleet-signer'],
              path: 'default',
            },
          },
        },
        {
          action: {
            name: 'Install-Firmware',
            type: 'runHandler',
            input: {
              handler: 'fleetkit-install-firmware.sh',
              args: [path, 'sensor-fw', '1.2.0'],
              path: 'default',
            },
          },
        },
      ],
    });
    const parsed = assertJobDocument(document);
    expect(parsed.operations.map((operation) => operation.kind)).toEqual([
      'download-file',
      'verify-signature',
      'install-firmware',
    ]);
    expect(parsed.placeholders).toEqual([
      {
        text: `\${aws:iot:s3-presigned-url:${firmware.s3Url}}`,
        kind: 's3-presigned-url',
        value: firmware.s3Url,
      },
    ]);
  });

  it('builds a firmware update with a direct URL that a device accepts as it is', () => {
    const document = firmwareUpdateDocument({
      ...firmware,
      s3Url: undefined,
      url: 'https://127.0.0.1:8443/fw.bin',
      localPath: 'fw.bin',
    });
    const parsed = assertJobDocument(document, { stage: 'device' });
    expect(parsed.operations[0]).toMatchObject({
      kind: 'download-file',
      url: 'https://127.0.0.1:8443/fw.bin',
      localPath: 'fw.bin',
    });
  });

  it('builds reboot and factory reset documents with the handler path and user given', () => {
    expect(rebootDocument({ handlerPath: '/opt/handlers', runAsUser: 'root' })).toEqual({
      version: '1.0',
      steps: [
        {
          action: {
            name: 'Reboot',
            type: 'runHandler',
            input: { handler: 'reboot.sh', path: '/opt/handlers' },
            runAsUser: 'root',
          },
        },
      ],
    });
    expect(assertJobDocument(factoryResetDocument()).operations).toEqual([
      { kind: 'factory-reset', stepName: 'Factory-Reset', ignoreStepFailure: false, final: false },
    ]);
  });

  it.each<[string, Partial<FirmwareUpdateOptions>, RegExp]>([
    ['both s3Url and url', { url: 'https://example.com/fw.bin' }, /exactly one of s3Url/],
    ['an s3Url that is not an S3 object URL', { s3Url: 'https://example.com/fw.bin' }, /s3Url must be/],
    ['a bad sha256', { sha256: 'xyz' }, /sha256Hex must be 64 hexadecimal/],
    ['a signature that is not base64', { signature: 'not base64!' }, /signatureBase64 must be a base64/],
    [
      'a signing certificate name that is a path',
      { signingCertificateName: '../etc/key' },
      /signingCertificateName must be/,
    ],
    ['a package name with a slash', { packageName: 'a/b' }, /packageName must be a software package name/],
    ['a version with a space', { version: '1 2' }, /version must be a package version name/],
    [
      'a local path that climbs',
      { localPath: '/var/tmp/../../etc/passwd' },
      /must not contain "\.\." segments/,
    ],
  ])('fails when given %s', (_title, override, message) => {
    expect(() => firmwareUpdateDocument({ ...firmware, ...override })).toThrow(message);
  });

  it('fails when the serialized document is over 32 KB', () => {
    const big: JobDocument = {
      version: '1.0',
      steps: [
        {
          action: {
            name: 'x'.repeat(JOB_DOCUMENT_LIMITS.documentMaxBytes.value),
            type: 'runHandler',
            input: { handler: 'echo' },
          },
        },
      ],
    };
    expect(() => serializeJobDocument(big)).toThrow(/bytes; AWS IoT allows at most 32768/);
    expect(serializeJobDocument(rebootDocument())).toBe(JSON.stringify(rebootDocument()));
  });
});

describe('parseJobDocument', () => {
  it('accepts JSON text and the object a device receives alike', () => {
    const document = rebootDocument();
    const fromText = parseJobDocument(JSON.stringify(document), { stage: 'device' });
    const fromObject = parseJobDocument(document, { stage: 'device' });
    expect(fromText).toEqual(fromObject);
    expect(fromText.ok && fromText.value.operations[0]!.kind).toBe('reboot');
  });

  it('keeps unknown handlers and commands as such, for the agent to decide', () => {
    const parsed = assertJobDocument(
      doc(step('my-handler.sh', ['a', 'b']), {
        action: { name: 'cmd', type: 'runCommand', input: { command: 'echo,a\\,b,c' } },
      }),
    );
    expect(parsed.operations).toEqual([
      {
        kind: 'handler',
        handler: 'my-handler.sh',
        args: ['a', 'b'],
        stepName: 'run my-handler.sh',
        ignoreStepFailure: false,
        final: false,
      },
      {
        kind: 'command',
        command: ['echo', 'a,b', 'c'],
        stepName: 'cmd',
        ignoreStepFailure: false,
        final: false,
      },
    ]);
  });

  it('lists the final step last and marks it', () => {
    const parsed = assertJobDocument({
      version: '1.0',
      steps: [step('reboot.sh')],
      finalStep: step('fleetkit-factory-reset.sh'),
    });
    expect(parsed.operations.map((operation) => [operation.kind, operation.final])).toEqual([
      ['reboot', false],
      ['factory-reset', true],
    ]);
  });

  it('normalizes the sha256 to lowercase', () => {
    const parsed = assertJobDocument(
      doc(step(HANDLERS.verifySignature, ['f.bin', 'AB'.repeat(32), SIGNATURE, 'signer'])),
    );
    expect(parsed.operations[0]).toMatchObject({ sha256: 'ab'.repeat(32) });
  });

  it.each<[string, unknown, RegExp]>([
    ['not JSON', '{"version":', /not JSON/],
    ['an array', '[]', /must be a JSON object/],
    ['null', 'null', /must be a JSON object/],
    [
      'an unknown schema version',
      { version: '2.0', steps: [step('reboot.sh')] },
      /schema version "2.0" is not supported/,
    ],
    ['no steps', { version: '1.0', steps: [] }, /^steps: /],
    ['a step without an action', { version: '1.0', steps: [{}] }, /^steps\[0\]\.action: /],
    [
      'an unknown action type',
      doc({ action: { name: 'x', type: 'runScript', input: { handler: 'x' } } }),
      /^steps\[0\]\.action/,
    ],
    [
      'a boolean ignoreStepFailure (the Device Client wants a string)',
      doc(step('reboot.sh', undefined, { ignoreStepFailure: true })),
      /ignoreStepFailure/,
    ],
    ['an empty handler name', doc(step('')), /steps\[0\]\.action\.input\.handler/],
    [
      'arguments to reboot.sh',
      doc(step('reboot.sh', ['now'])),
      /reboot\.sh takes no arguments; got 1 \(contract version 1\)/,
    ],
    [
      'a missing download argument',
      doc(step('download-file.sh', ['https://example.com/f'])),
      /download-file\.sh takes 2: \[url, localPath\]; got 1/,
    ],
    [
      'an extra install argument',
      doc(step('fleetkit-install-firmware.sh', ['f', 'p', '1', 'x'])),
      /takes 3: \[localPath, packageName, version\]; got 4/,
    ],
    [
      'a file URL',
      doc(step('download-file.sh', ['file:///etc/passwd', 'f'])),
      /url must be an http\(s\) URL/,
    ],
    [
      'a localPath with a newline',
      doc(step('download-file.sh', ['https://e.com/f', 'a\nb'])),
      /control characters/,
    ],
    [
      'a localPath that is a directory',
      doc(step('download-file.sh', ['https://e.com/f', '/tmp/'])),
      /must name a file/,
    ],
    [
      'an install without a signature check',
      doc(
        step('download-file.sh', ['https://e.com/f', 'f.bin']),
        step('fleetkit-install-firmware.sh', ['f.bin', 'p', '1']),
      ),
      /installs f\.bin without a fleetkit-verify-signature\.sh step/,
    ],
    [
      'an install of a file other than the verified one',
      doc(
        step('fleetkit-verify-signature.sh', ['a.bin', SHA, SIGNATURE, 's']),
        step('fleetkit-install-firmware.sh', ['b.bin', 'p', '1']),
      ),
      /installs b\.bin without/,
    ],
    [
      'an install verified only after it',
      doc(
        step('fleetkit-install-firmware.sh', ['a.bin', 'p', '1']),
        step('fleetkit-verify-signature.sh', ['a.bin', SHA, SIGNATURE, 's']),
      ),
      /installs a\.bin without/,
    ],
    [
      'a signature check whose failure is ignored',
      doc(
        step('fleetkit-verify-signature.sh', ['a.bin', SHA, SIGNATURE, 's'], { ignoreStepFailure: 'true' }),
      ),
      /a failed check must stop the job/,
    ],
  ])('refuses %s', (_title, input, message) => {
    expect(reasonOf(input)).toMatch(message);
  });

  it('refuses a document over 32 KB before parsing it', () => {
    const text = JSON.stringify(doc(step('echo', ['x'.repeat(JOB_DOCUMENT_LIMITS.documentMaxBytes.value)])));
    expect(reasonOf(text)).toMatch(/bytes; AWS IoT allows at most 32768/);
  });

  it('counts bytes, not characters', () => {
    const padding = 'é'.repeat(JOB_DOCUMENT_LIMITS.documentMaxBytes.value / 2);
    expect(padding.length).toBeLessThan(JOB_DOCUMENT_LIMITS.documentMaxBytes.value);
    expect(reasonOf(doc(step('echo', [padding])))).toMatch(/AWS IoT allows at most 32768/);
  });
});

describe('placeholders', () => {
  const s3 = 'https://s3.us-east-1.amazonaws.com/bucket-1/path/to/fw.bin';

  it.each([
    [`\${aws:iot:s3-presigned-url:${s3}}`, 's3-presigned-url', s3],
    [`\${aws:iot:s3-presigned-url-v2:${s3}}`, 's3-presigned-url', s3],
    [
      '${aws:iot:s3-presigned-url:https://s3.amazonaws.com/bucket-1/key}',
      's3-presigned-url',
      'https://s3.amazonaws.com/bucket-1/key',
    ],
    ['${aws:iot:parameter:downloadUrl}', 'parameter', 'downloadUrl'],
  ])('finds %s', (text, kind, value) => {
    expect(findPlaceholders(`before ${text} after`)).toEqual([{ text, kind, value }]);
  });

  it.each<[string, RegExp]>([
    ['${aws:iot:s3-presigned-url:https://example.com/bucket/key}', /must name an S3 object URL/],
    ['${aws:iot:parameter:bad.key}', /invalid parameter key/],
    ['${aws:iot:parameter:unterminated', /malformed placeholder/],
    ['${aws:iot:unknown:x}', /malformed placeholder/],
    ['${aws:something}', /malformed placeholder/],
  ])('refuses %s', (text, message) => {
    expect(() => findPlaceholders(text)).toThrow(message);
    expect(reasonOf(doc(step('echo', [text])))).toMatch(message);
  });

  it('leaves text that is not an AWS placeholder alone', () => {
    expect(findPlaceholders('echo ${HOME} $aws {aws:iot}')).toEqual([]);
  });

  it('allows 10 placeholders and refuses 11', () => {
    const args = (n: number): string[] => Array.from({ length: n }, (_, i) => `\${aws:iot:parameter:p${i}}`);
    expect(parseJobDocument(doc(step('echo', args(10)))).ok).toBe(true);
    expect(reasonOf(doc(step('echo', args(11))))).toMatch(
      /has 11 placeholders; AWS IoT substitutes at most 10/,
    );
  });

  it('allows a placeholder in place of a typed argument in a template, and refuses it on a device', () => {
    const template = firmwareUpdateDocument(firmware);
    expect(parseJobDocument(template, { stage: 'template' }).ok).toBe(true);
    expect(reasonOf(template, 'device')).toMatch(
      /still holds the placeholder \$\{aws:iot:s3-presigned-url:.*the service did not substitute it/,
    );
  });

  it('checks a typed argument that only contains a placeholder among other text', () => {
    const input = doc(step('download-file.sh', ['see ${aws:iot:parameter:url}', 'f']));
    expect(reasonOf(input)).toMatch(/url must be an http\(s\) URL/);
  });
});

describe('splitCommand', () => {
  it.each([
    ['mkdir,newDir', ['mkdir', 'newDir']],
    ['echo,a\\,b', ['echo', 'a,b']],
    ['ls', ['ls']],
    ['a,,b', ['a', 'b']],
  ])('splits %s', (command, expected) => {
    expect(splitCommand(command)).toEqual(expected);
  });
});

describe('contract test: documents published by AWS and the Device Client', () => {
  it.each(Object.entries(DEVICE_CLIENT_SAMPLES))('parses the Device Client sample %s', (_name, sample) => {
    const result = parseJobDocument(sample, { stage: 'device' });
    expect(result.ok ? result.value.operations.length : result.error.message).toBeGreaterThan(0);
  });

  it('converts the old-schema download-file sample into the download-file operation, as the Device Client does', () => {
    const parsed = assertJobDocument(DEVICE_CLIENT_SAMPLES['download-file.json'], { stage: 'device' });
    expect(parsed.document.steps[0]!.action).toEqual({
      name: 'download-file.sh',
      type: 'runHandler',
      input: {
        handler: 'download-file.sh',
        args: ['https://example.com/archive/v1.3.tar.gz', '/tmp/aws-iot-device-client.tar.gz'],
        path: 'default',
      },
    });
    expect(parsed.operations[0]).toMatchObject({
      kind: 'download-file',
      url: 'https://example.com/archive/v1.3.tar.gz',
    });
  });

  it('reads the sample reboot document as the reboot operation and keeps runAsUser', () => {
    expect(assertJobDocument(DEVICE_CLIENT_SAMPLES['reboot.json'], { stage: 'device' }).operations).toEqual([
      {
        kind: 'reboot',
        stepName: 'Reboot Device',
        ignoreStepFailure: false,
        final: false,
        runAsUser: 'root',
      },
    ]);
  });

  it('reads the README example: an ignored step failure, a contract handler, and a final step', () => {
    const parsed = assertJobDocument(DEVICE_CLIENT_SAMPLES['README new-schema example'], { stage: 'device' });
    expect(
      parsed.operations.map((operation) => [operation.kind, operation.ignoreStepFailure, operation.final]),
    ).toEqual([
      ['handler', true, false],
      ['download-file', false, false],
      ['handler', false, true],
    ]);
  });

  it.each(Object.entries(AWS_MANAGED_TEMPLATE_DOCUMENTS))(
    'parses the %s managed template as a template',
    (_name, document) => {
      const parsed = assertJobDocument(document, { stage: 'template' });
      expect(parsed.placeholders.every((placeholder) => placeholder.kind === 'parameter')).toBe(true);
      expect(parsed.placeholders.length).toBeGreaterThan(0);
    },
  );

  it('reads AWS-Download-File, once AWS has substituted its parameters, as the contract download operation', () => {
    const substituted = JSON.parse(
      JSON.stringify(AWS_MANAGED_TEMPLATE_DOCUMENTS['AWS-Download-File'])
        .replace('${aws:iot:parameter:downloadUrl}', 'https://bucket.s3.amazonaws.com/f?X-Amz-Signature=abc')
        .replace('${aws:iot:parameter:filePath}', '/tmp/f')
        .replace('${aws:iot:parameter:pathToHandler}', 'default')
        .replace('${aws:iot:parameter:runAsUser}', ''),
    );
    expect(assertJobDocument(substituted, { stage: 'device' }).operations).toEqual([
      {
        kind: 'download-file',
        url: 'https://bucket.s3.amazonaws.com/f?X-Amz-Signature=abc',
        localPath: '/tmp/f',
        stepName: 'Download-File',
        ignoreStepFailure: false,
        final: false,
        runAsUser: '',
      },
    ]);
  });

  it('gives the managed reboot template and the reboot builder the same handler', () => {
    const managed = assertJobDocument(AWS_MANAGED_TEMPLATE_DOCUMENTS['AWS-Reboot']).operations[0]!;
    const built = assertJobDocument(rebootDocument()).operations[0]!;
    expect([managed.kind, built.kind]).toEqual(['reboot', 'reboot']);
  });

  it('matches docs/jobs.md: the contract version and every handler with its arguments in order', () => {
    const docs = readFileSync(join(__dirname, '../../../docs/jobs.md'), 'utf8');
    expect(docs).toContain(`FLEETKIT_JOB_CONTRACT_VERSION = ${FLEETKIT_JOB_CONTRACT_VERSION}`);
    for (const [handler, names] of Object.entries(HANDLER_ARGUMENT_NAMES)) {
      const row = docs.split('\n').find((line) => line.startsWith(`| \`${handler}\``));
      expect(row).toBeDefined();
      const documented =
        row!
          .split('|')[2]!
          .match(/`[^`]+`/g)
          ?.map((name) => name.slice(1, -1)) ?? [];
      expect(documented).toEqual(names);
    }
  });
});
