/**
 * `fleetkit job executions --thing`: a device's job executions with their status details.
 */
import { ListJobExecutionsForThingCommand, ResourceNotFoundException } from '@aws-sdk/client-iot';
import { JOB_EXECUTION_STATUSES } from '../../core/jobs/data-plane';
import { THING_NAME_PATTERN } from '../../core/limits';
import { AwsRequestError, type AwsClients } from '../aws-clients';
import { AWS_SETTINGS_NOTE, defineCommand, type Command } from '../command';
import { JSON_OUTPUT } from '../common-options';
import {
  renderExecutions,
  DESCRIBED_EXECUTIONS_MAX,
  resolveTargets,
  summaryRow,
  withStatusDetails,
  type ExecutionRow,
} from '../lib/jobs';
import { choice, matching } from '../option-values';

const DESCRIPTION = `Lists the job executions of one thing, newest first, each with its status and the status details
the device reported (a step, a progress, the reason of a failure or a rejection); the ${DESCRIBED_EXECUTIONS_MAX} newest with details.`;

const executionStatus = choice(JOB_EXECUTION_STATUSES, { ignoreCase: true });

/** `fleetkit job executions`, with the IoT client from `iot`. */
export function createJobExecutionsCommand({ iot }: Pick<AwsClients, 'iot'>): Command {
  return defineCommand({
    path: ['job', 'executions'],
    summary: "a device's job executions with their status details",
    description: DESCRIPTION,
    options: {
      thing: {
        type: 'string',
        valueName: 'NAME',
        required: true,
        parse: matching(THING_NAME_PATTERN, 'a thing name (1 to 128 of [a-zA-Z0-9:_-])'),
        description: 'the thing',
      },
      status: {
        type: 'string',
        valueName: 'STATUS',
        parse: executionStatus,
        description: `only executions in this status (${JOB_EXECUTION_STATUSES.join(', ')})`,
      },
      json: JSON_OUTPUT,
    },
    footer: `Exit codes: 0 listed, 1 the thing does not exist or an AWS error, 2 a wrong command line.
${AWS_SETTINGS_NOTE}`,
    async run({ values }, io) {
      const thingName = values.thing;
      // ListJobExecutionsForThing answers an empty list for a thing that does not exist; say so instead.
      await resolveTargets(iot, [thingName], []);
      const rows: ExecutionRow[] = [];
      let nextToken: string | undefined;
      try {
        do {
          const page = await iot().send(
            new ListJobExecutionsForThingCommand({
              thingName,
              ...(values.status !== undefined && { status: values.status }),
              maxResults: 100,
              nextToken,
            }),
          );
          for (const summary of page.executionSummaries ?? []) {
            rows.push(summaryRow(thingName, summary.jobExecutionSummary, summary.jobId ?? '?'));
          }
          nextToken = page.nextToken ?? undefined;
        } while (nextToken !== undefined);
      } catch (error) {
        if (error instanceof ResourceNotFoundException) {
          throw new Error(`Thing "${thingName}" does not exist in this account and region.`, {
            cause: error,
          });
        }
        throw new AwsRequestError('ListJobExecutionsForThing', error);
      }
      // Newest first, so that the executions described in full are the latest ones.
      const newestFirst = (a: ExecutionRow, b: ExecutionRow) =>
        (b.lastUpdatedAt?.getTime() ?? 0) - (a.lastUpdatedAt?.getTime() ?? 0);
      const described = await withStatusDetails(iot, rows.sort(newestFirst), (row) => row.jobId!);
      described.sort(newestFirst);
      io.stdout.write(
        values.json ? `${JSON.stringify(described, null, 2)}\n` : renderExecutions(described, 'job'),
      );
      return 0;
    },
  });
}
