/**
 * `fleetkit job create`: a job from one of a fleet's job templates (or from a document file) for things and
 * thing groups, as a snapshot or a continuous job.
 */
import { CreateJobCommand, ResourceAlreadyExistsException } from '@aws-sdk/client-iot';
import { JobDocumentError, parseJobDocument } from '../../core/jobs/document';
import { presignedUrlExpirySchema } from '../../core/jobs/execution-config';
import { needsPresignedUrls } from '../../core/jobs/templates';
import { JOB_ID_PATTERN } from '../../core/limits';
import { AwsRequestError, type AwsClients } from '../aws-clients';
import { AWS_SETTINGS_NOTE, defineCommand, UsageError, type Command } from '../command';
import { JSON_OUTPUT } from '../common-options';
import { readTextFile } from '../lib/files';
import { defaultJobId, findJobTemplate, resolveTargets } from '../lib/jobs';
import { matching, positiveInteger } from '../option-values';

const DESCRIPTION = `Creates a job for things and thing groups (static or dynamic), from one of a fleet's job templates
(--template: its name in the fleet configuration, or a template ID) or from a job document file (--document,
checked with the job contract's parser first). A snapshot job (the default) reaches the targets' members now; a
continuous job (--continuous, groups only) also reaches things that join a group later: on a dynamic group of
devices not on the latest version, it keeps the fleet current.`;

const IAM_ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;

/** `fleetkit job create`, with the IoT client from `iot`. */
export function createJobCreateCommand(
  { iot }: Pick<AwsClients, 'iot'>,
  now: () => Date = () => new Date(),
): Command {
  return defineCommand({
    path: ['job', 'create'],
    summary: 'create a job from a fleet job template (or a document) for things and groups',
    description: DESCRIPTION,
    options: {
      template: {
        type: 'string',
        valueName: 'NAME',
        description: 'the job template: its name in the fleet configuration, or its ID',
      },
      document: {
        type: 'string',
        valueName: 'FILE',
        description: 'a job document JSON file instead of a template',
      },
      fleet: {
        type: 'string',
        valueName: 'NAME',
        description: "look for the template among this fleet's only (when several fleets share an account)",
      },
      thing: { type: 'string', valueName: 'NAME', multiple: true, description: 'a thing to target' },
      group: {
        type: 'string',
        valueName: 'NAME',
        multiple: true,
        description: 'a thing group (static or dynamic) to target',
      },
      continuous: {
        type: 'boolean',
        description: 'keep sending the job to things that join the target groups',
      },
      'job-id': {
        type: 'string',
        valueName: 'ID',
        parse: matching(JOB_ID_PATTERN, '1 to 64 of [a-zA-Z0-9_-]'),
        description: 'the job ID',
        defaultDescription: '<template>-<UTC time>',
      },
      description: { type: 'string', valueName: 'TEXT', description: 'what the job is for' },
      'presigned-url-role': {
        type: 'string',
        valueName: 'ARN',
        parse: matching(IAM_ROLE_ARN, 'an IAM role ARN'),
        description:
          'with --document: the role AWS IoT presigns the document URLs with (PresignedUrlRoleArn output)',
      },
      'presigned-url-expiry': {
        type: 'string',
        valueName: 'SECONDS',
        parse: positiveInteger({ unit: 'seconds' }),
        description: 'with --document: how long presigned URLs stay valid, 60 to 3600',
        defaultDescription: '3600',
      },
      json: JSON_OUTPUT,
    },
    oneOf: [['template', 'document']],
    footer: `Exit codes: 0 created, 1 an unknown template, a target that does not exist, an invalid document or an
AWS error, 2 a wrong command line.
${AWS_SETTINGS_NOTE}
See https://docs.aws.amazon.com/iot/latest/developerguide/create-manage-jobs.html`,
    async run({ values }, io) {
      const groups = values.group;
      if (values.continuous && groups.length === 0) {
        throw new UsageError('--continuous needs a --group: only groups gain members later.');
      }
      let source: { jobTemplateArn: string } | { document: string; presigned: boolean };
      let base: string;
      if (values.template !== undefined) {
        const template = await findJobTemplate(iot, values.template, values.fleet);
        source = { jobTemplateArn: template.jobTemplateArn };
        base = values.template;
      } else {
        const text = readTextFile(values.document!);
        const parsed = parseJobDocument(text, { stage: 'template' });
        if (!parsed.ok) throw new JobDocumentError(`${values.document}: ${parsed.error.message}`);
        const presigned = needsPresignedUrls(text);
        if (presigned && values['presigned-url-role'] === undefined) {
          throw new UsageError('The document has presigned-URL placeholders: give --presigned-url-role.');
        }
        source = { document: JSON.stringify(JSON.parse(text)), presigned };
        base = 'job';
      }
      const expiry = values['presigned-url-expiry'];
      if (expiry !== undefined) {
        const checked = presignedUrlExpirySchema.safeParse(expiry);
        if (!checked.success) {
          throw new UsageError(
            `--presigned-url-expiry ${checked.error.issues[0]!.message}; got "${expiry}".`,
          );
        }
      }
      const targets = await resolveTargets(iot, values.thing, groups);
      const jobId = values['job-id'] ?? defaultJobId(base, now());
      try {
        const out = await iot().send(
          new CreateJobCommand({
            jobId,
            targets: targets.map((target) => target.arn),
            targetSelection: values.continuous ? 'CONTINUOUS' : 'SNAPSHOT',
            ...('jobTemplateArn' in source
              ? { jobTemplateArn: source.jobTemplateArn }
              : {
                  document: source.document,
                  ...(source.presigned && {
                    presignedUrlConfig: {
                      roleArn: values['presigned-url-role']!,
                      expiresInSec: expiry ?? 3600,
                    },
                  }),
                }),
            ...(values.description !== undefined && { description: values.description }),
          }),
        );
        const result = {
          jobId,
          jobArn: out.jobArn,
          targetSelection: values.continuous ? 'CONTINUOUS' : 'SNAPSHOT',
          targets,
        };
        if (values.json) {
          io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        } else {
          io.stdout.write(
            [
              `Job ${jobId} created (${result.targetSelection.toLowerCase()}) for ${targets.map((t) => `${t.kind} ${t.name}`).join(', ')}.`,
              `Follow it: npx fleetkit job status ${jobId}`,
            ].join('\n') + '\n',
          );
        }
        return 0;
      } catch (error) {
        if (error instanceof ResourceAlreadyExistsException) {
          throw new Error(`A job with ID "${jobId}" exists already; choose another --job-id.`, {
            cause: error,
          });
        }
        throw new AwsRequestError('CreateJob', error);
      }
    },
  });
}
