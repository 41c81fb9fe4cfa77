/**
 * Micro-benchmark of the certificate issuer: device certificates per second from a local EC P-256 CA key, each
 * for a newly generated EC P-256 key (what bulk provisioning does), on one core.
 *
 * Run: `npm run bench:certificates [-- --seconds 5]`. Prints figures; writes nothing (not part of BENCHMARKS.md,
 * whose benchmarks measure the deployed system). Two ways are measured: a CA loaded once with
 * `CertificateIssuer.load` (how bulk issuing should use it), and `issueDeviceCertificate`, which loads the CA for
 * every certificate.
 */
import { parseArgs } from 'node:util';
import { availableParallelism, cpus } from 'node:os';
import {
  CertificateIssuer,
  createCertificateAuthority,
  issueDeviceCertificate,
  type KeyAndCertificate,
} from '../core/certificates/issue';

/** Issues certificates with `issue` for about `seconds` and returns how many per second. */
async function rate(seconds: number, issue: (index: number) => Promise<unknown>): Promise<number> {
  // Warm-up: JIT, OpenSSL's first use of each algorithm.
  for (let index = 0; index < 200; index++) await issue(index);
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(Math.round(seconds * 1e9));
  let count = 0;
  let now = started;
  while (now < deadline) {
    // Check the clock every 100 certificates only, so reading it costs nothing measurable.
    for (let i = 0; i < 100; i++) await issue(count++);
    now = process.hrtime.bigint();
  }
  return count / (Number(now - started) / 1e9);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seconds: { type: 'string', default: '3' } } });
  const seconds = Number(values.seconds);
  if (!(seconds > 0)) throw new Error(`--seconds must be a positive number; got ${values.seconds}`);

  const ca: KeyAndCertificate = await createCertificateAuthority({
    subject: { CN: 'Bench CA', O: 'Fleetkit' },
  });
  const issuer = await CertificateIssuer.load(ca);
  const subject = (index: number) => ({ CN: `bench-thing-${index}`, serialNumber: `SN${index}` });

  const loadedOnce = await rate(seconds, (index) =>
    issuer.issueDeviceCertificate({ subject: subject(index) }),
  );
  const loadedEach = await rate(seconds, (index) => issueDeviceCertificate({ ca, subject: subject(index) }));

  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const line = (label: string, perSecond: number) =>
    `  ${label.padEnd(48)} ${perSecond.toFixed(0).padStart(6)} certificates/s  (${(1e6 / perSecond).toFixed(0)} µs each)`;
  process.stdout.write(
    [
      `Certificate issuer, EC P-256 CA key, a new EC P-256 key per certificate, one core ` +
        `(${cpu}, ${availableParallelism()} available; Node ${process.version}); ${seconds} s each:`,
      line('CertificateIssuer.load once, then issue', loadedOnce),
      line('issueDeviceCertificate (loads the CA each time)', loadedEach),
      '',
    ].join('\n'),
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
