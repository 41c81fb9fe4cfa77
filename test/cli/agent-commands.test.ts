import { endpointAddress, signingCertificateFile } from '../../cli/agent-options';
import { formatAgentEvent } from '../../cli/commands/agent';
import { formatSummary } from '../../cli/commands/simulate';
import { UsageError } from '../../cli/options';
import { runFleetkit } from '../support/cli';

describe('fleetkit agent: command line', () => {
  test.each([
    [
      ['--endpoint', 'h', '--state-dir', 'd', '--cert', 'c.pem', '--claim-cert', 'k.pem'],
      'Give exactly one of --cert and --claim-cert; got --cert and --claim-cert.',
    ],
    [['--endpoint', 'h', '--state-dir', 'd'], 'Give exactly one of --cert and --claim-cert.'],
    [
      ['--endpoint', 'h', '--state-dir', 'd', '--cert', 'c.pem'],
      'Onboarding with --cert needs --thing-name.',
    ],
    [
      ['--endpoint', 'h', '--state-dir', 'd', '--claim-cert', 'c.pem', '--claim-key', 'k'],
      'Fleet provisioning with --claim-cert needs --claim-client-id.',
    ],
    [['--endpoint', 'h:70000', '--state-dir', 'd', '--cert', 'c'], '--endpoint must be HOST or HOST:PORT'],
    [
      ['--endpoint', 'h', '--state-dir', 'd', '--cert', 'c', '--firmware-version', 'v 1'],
      '--firmware-version must be 1 to 64 characters of [a-zA-Z0-9._-]; got "v 1".',
    ],
  ])('refuses %j with a usage error (exit code 2)', async (args, message) => {
    const run = await runFleetkit('agent', ...args);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
  });

  test('a file it cannot read is an error naming the file (exit code 1), before anything connects', async () => {
    const run = await runFleetkit(
      'agent',
      ...['--endpoint', 'localhost:1', '--state-dir', '/nonexistent/state'],
      ...['--thing-name', 't', '--cert', '/nonexistent/t.pem', '--key', '/nonexistent/t.key'],
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('fleetkit: error: Cannot read /nonexistent/t.pem: ENOENT\n');
  });
});

describe('option values', () => {
  test('an endpoint is HOST or HOST:PORT, port 8883 by default', () => {
    expect(endpointAddress('xyz-ats.iot.eu-west-1.amazonaws.com', 'endpoint')).toEqual({
      host: 'xyz-ats.iot.eu-west-1.amazonaws.com',
      port: 8883,
    });
    expect(endpointAddress('localhost:40001', 'endpoint')).toEqual({ host: 'localhost', port: 40001 });
    expect(() => endpointAddress('localhost:0', 'endpoint')).toThrow(UsageError);
    expect(() => endpointAddress('a b', 'endpoint')).toThrow('--endpoint must be HOST or HOST:PORT');
  });

  test('a signing certificate is NAME=FILE with a name job documents can use', () => {
    expect(signingCertificateFile('fleet-signer=/etc/signer.pem', 'signing-cert')).toEqual({
      name: 'fleet-signer',
      file: '/etc/signer.pem',
    });
    expect(() => signingCertificateFile('signer.pem', 'signing-cert')).toThrow(
      '--signing-cert must be NAME=FILE; got "signer.pem".',
    );
    expect(() => signingCertificateFile('../x=/f', 'signing-cert')).toThrow(
      '--signing-cert name must be 1 to 64 characters of [A-Za-z0-9_.-]; got "../x".',
    );
  });
});

describe('output', () => {
  test('an agent event is one line with its fields', () => {
    expect(
      formatAgentEvent(
        { type: 'connect-retry', attempt: 1, delayMs: 1500, error: 'refused' },
        new Date('2030-01-01T00:00:00.000Z'),
      ),
    ).toBe('2030-01-01T00:00:00.000Z connect-retry attempt=1 delayMs=1500 error=refused');
  });

  test('the simulation summary lists at most ten failures', () => {
    const failures = Array.from({ length: 12 }, (_, i) => ({ device: `sim-${i + 1}`, error: 'refused' }));
    const text = formatSummary(
      {
        total: 20,
        onboarded: 8,
        failed: 12,
        onboardP50Ms: 1500,
        onboardP95Ms: 2500,
        jobsSucceeded: 1,
        jobsFailed: 0,
        jobsRejected: 2,
        connectRetries: 30,
        failures,
      },
      12.34,
    );
    expect(text.split('\n').slice(0, 3)).toEqual([
      'Devices: 20, onboarded: 8, failed: 12 (12.3 s)',
      'Time to onboard: p50 1.50 s, p95 2.50 s; connection retries: 30',
      'Jobs: 1 succeeded, 0 failed, 2 rejected',
    ]);
    expect(text).toContain('  sim-10: refused');
    expect(text).not.toContain('sim-11');
    expect(text.endsWith('  ... and 2 more')).toBe(true);
  });
});
