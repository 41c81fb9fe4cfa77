/**
 * `fleetkit bulk run`: registers a prepared batch with one bulk registration task and writes a bundle per device.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { resolve } from 'node:path';
import type { AwsClients } from '../aws-clients';
import { AWS_SETTINGS_NOTE, defineCommand, type Command } from '../command';
import { BATCH_FILES } from '../lib/bulk/batch';
import { BUNDLE_FILES } from '../lib/bulk/bundle';
import { fetchReportLines, runBatch, type RunDependencies } from '../lib/bulk/run';
import { Progress, type ProgressStream } from '../lib/progress';
import { matching, positiveInteger } from '../option-values';

/** What tests replace: waiting, and downloading report links. */
export type BulkRunRuntime = Pick<RunDependencies, 'sleep' | 'reportLines'>;

const REAL_RUNTIME: BulkRunRuntime = { sleep: (ms) => sleep(ms), reportLines: fetchReportLines };

/** `fleetkit bulk run`, with the IoT and S3 clients from `clients`. */
export function createBulkRunCommand(
  clients: Pick<AwsClients, 'iot' | 's3'>,
  runtime: BulkRunRuntime = REAL_RUNTIME,
): Command {
  return defineCommand({
    path: ['bulk', 'run'],
    summary: 'register a prepared batch in one bulk registration task and write a bundle per device',
    description: `Uploads the batch's registration file (CSRs or certificates, never a key) to the registration bucket, starts
a bulk registration task (StartThingRegistrationTask) with the template the batch was prepared for, and follows
it with a progress bar. AWS IoT runs one task per account at a time: while another runs, this waits and says so.
Then it downloads the result and error reports (kept in OUT/reports/ and the bucket's reports/) and writes, per
registered device, OUT/<thing name>/: ${BUNDLE_FILES.certificate}, ${BUNDLE_FILES.key} (0600), ${BUNDLE_FILES.chain} (CA-signed
certificates), ${BUNDLE_FILES.rootCa} and ${BUNDLE_FILES.info} (thing name, endpoint iot:Data-ATS, certificate ID); devices
not registered are listed in OUT/failed.txt with the reason.
Interrupted, run it again: DIR/${BATCH_FILES.task} records the task, so the same task is followed again and
nothing is registered twice; existing bundles are kept.`,
    options: {
      dir: {
        type: 'string',
        valueName: 'DIR',
        required: true,
        description: 'the batch folder "bulk prepare" wrote',
      },
      bucket: {
        type: 'string',
        valueName: 'NAME',
        required: true,
        parse: matching(/^[a-z0-9.-]{3,63}$/, 'an S3 bucket name'),
        description: 'the registration bucket (stack output BulkRegistrationBucketName)',
      },
      'role-arn': {
        type: 'string',
        valueName: 'ARN',
        required: true,
        parse: matching(/^arn:aws[a-z-]*:iam::\d{12}:role\/\S+$/, 'an IAM role ARN'),
        description: 'the role AWS IoT assumes to run the task (stack output BulkRegistrationRoleArn)',
      },
      'out-dir': {
        type: 'string',
        valueName: 'DIR',
        description: 'where the bundles go',
        defaultDescription: 'DIR/bundles',
      },
      'poll-seconds': {
        type: 'string',
        valueName: 'N',
        parse: positiveInteger({ unit: 'seconds' }),
        default: '10',
        description: 'seconds between checks of the task',
      },
      'wait-seconds': {
        type: 'string',
        valueName: 'N',
        parse: positiveInteger({ unit: 'seconds' }),
        default: '30',
        description: 'seconds between checks while another task runs',
      },
    },
    footer: `${AWS_SETTINGS_NOTE}\nNeeds s3:PutObject on the bucket, iam:PassRole on the role, iot:StartThingRegistrationTask,
iot:DescribeThingRegistrationTask, iot:ListThingRegistrationTasks, iot:ListThingRegistrationTaskReports and
iot:DescribeEndpoint. Exit code 1 when a device was not registered. See docs/bulk.md.`,
    async run({ values }, io) {
      const dir = resolve(values.dir);
      const outDir = resolve(values['out-dir'] ?? resolve(dir, 'bundles'));
      const stderr = io.stderr as ProgressStream;
      const progress = new Progress({ label: 'register', unit: 'devices', stream: stderr });
      const summary = await runBatch(
        {
          dir,
          bucket: values.bucket,
          roleArn: values['role-arn'],
          outDir,
          pollSeconds: values['poll-seconds'],
          waitSeconds: values['wait-seconds'],
        },
        {
          iot: clients.iot(),
          s3: clients.s3(),
          ...runtime,
          progress,
          log: (line) => progress.message(line),
        },
      );
      const count = (n: number) => n.toLocaleString('en-US');
      const lines = [
        `Task ${summary.taskId} ${summary.status}${summary.message ? ` (${summary.message})` : ''}${summary.resumed ? ', resumed' : ''}: ` +
          `${count(summary.registered)} of ${count(summary.devices)} devices registered, ${count(summary.failed.length)} not`,
        `  bundles   ${outDir}/<thing name>/ (${count(summary.bundlesWritten)} written now)`,
        `  endpoint  ${summary.endpoint}`,
      ];
      if (summary.failed.length > 0 || summary.unmatched.length > 0) {
        lines.push(`  failed    ${resolve(outDir, 'failed.txt')}`);
        for (const device of summary.failed.slice(0, 10))
          lines.push(`    ${device.thingName}: ${device.message}`);
        if (summary.failed.length > 10) lines.push(`    ... and ${count(summary.failed.length - 10)} more`);
        for (const line of summary.unmatched.slice(0, 5)) lines.push(`    (unmatched) ${line}`);
      }
      io.stdout.write(`${lines.join('\n')}\n`);
      const clean =
        summary.status === 'Completed' && summary.failed.length === 0 && summary.unmatched.length === 0;
      return clean ? 0 : 1;
    },
  });
}
