/**
 * `fleetkit fleet cleanup`: removes what Fleetkit created at run time, and nothing else (core/reconcile/cleanup.ts).
 */
import {
  executeCleanup,
  planCleanup,
  type CleanedThing,
  type CleanupPlan,
} from '../../core/reconcile/cleanup';
import { describeMarker } from '../../core/reconcile/markers';
import { iotCleanupRegistry } from '../../core/reconcile/registry';
import type { AwsClients } from '../aws-clients';
import { AWS_SETTINGS_NOTE, defineCommand, UsageError, type Command } from '../command';
import { JSON_OUTPUT } from '../common-options';
import { confirmOnTerminal, NoTerminalError, type Confirm } from '../lib/confirm';
import { renderColumns } from '../lib/format';
import { matching } from '../option-values';

const PREFIX = matching(/^[a-zA-Z0-9:_-]{1,128}$/, 'the start of a thing name');

/** `fleetkit fleet cleanup`, with the IoT client from `iot`; `confirm` asks before anything changes. */
export function createFleetCleanupCommand({
  iot,
  confirm = confirmOnTerminal,
}: Pick<AwsClients, 'iot'> & { readonly confirm?: Confirm }): Command {
  return defineCommand({
    path: ['fleet', 'cleanup'],
    summary:
      'remove the things, certificates, attachments and group memberships Fleetkit created at run time',
    description: `Removes what onboarding created in the registry, which deleting the stacks leaves behind: each thing that
carries Fleetkit's marker (the attribute fleetkitOnboardedBy, written by JITR and the derived JITP and fleet
provisioning templates), its group memberships, the certificate the marker names (detached, its policies
detached, deactivated, deleted, unless another thing still holds it) and the thing itself.

It never touches what Fleetkit did not create: things without the marker are not read further, and a marked
thing with any other principal attached is left whole and reported. It lists what it would do first, then asks
(or takes --yes); --dry-run only lists. A device that still holds its certificate and connects again is
registered again by its CA's auto-registration: decommission devices before cleaning up.`,
    options: {
      prefix: {
        type: 'string',
        valueName: 'PREFIX',
        parse: PREFIX,
        description: 'only things whose name starts with PREFIX',
      },
      'dry-run': { type: 'boolean', description: 'list what would be removed, and stop' },
      yes: { type: 'boolean', description: 'remove without asking' },
      json: JSON_OUTPUT,
    },
    footer: `The caller needs iot:ListThings, iot:ListThingPrincipals, iot:ListThingGroupsForThing,
iot:DescribeThingGroup and, to remove, iot:RemoveThingFromThingGroup, iot:DetachThingPrincipal,
iot:ListPrincipalThings, iot:DescribeCertificate, iot:ListAttachedPolicies, iot:DetachPolicy,
iot:UpdateCertificate, iot:DeleteCertificate and iot:DeleteThing.
${AWS_SETTINGS_NOTE}`,
    async run({ values }, io) {
      if (values['dry-run'] && values.yes) throw new UsageError('Give --dry-run or --yes, not both.');
      const registry = iotCleanupRegistry(iot());
      const plan = await planCleanup(registry, {
        ...(values.prefix !== undefined && { thingNamePrefix: values.prefix }),
        onProgress: (scanned) => io.stderr.write(`${scanned} things read\n`),
      });
      if (values['dry-run'] || plan.things.length === 0) {
        io.stdout.write(values.json ? `${JSON.stringify({ plan }, null, 2)}\n` : renderCleanupPlan(plan));
        return 0;
      }
      if (!values.json) io.stdout.write(renderCleanupPlan(plan));
      if (!values.yes) {
        let confirmed: boolean;
        try {
          confirmed = await confirm(`Remove ${plan.things.length} thing(s) and what goes with them?`);
        } catch (error) {
          if (error instanceof NoTerminalError) {
            throw new UsageError('There is no terminal to confirm on: pass --yes to remove without asking.');
          }
          throw error;
        }
        if (!confirmed) {
          io.stdout.write('Nothing changed.\n');
          return 0;
        }
      }
      const results = await executeCleanup(registry, plan, {
        onProgress: (done, total) => io.stderr.write(`${done}/${total} things cleaned up\n`),
      });
      io.stdout.write(
        values.json ? `${JSON.stringify({ plan, results }, null, 2)}\n` : renderCleanupResults(results),
      );
      return results.some((result) => result.error !== undefined) ? 1 : 0;
    },
  });
}

/** The plan as text: what goes, and what stays and why. */
export function renderCleanupPlan(plan: CleanupPlan): string {
  const lines: string[] = [];
  if (plan.things.length === 0) {
    lines.push(
      `Nothing to clean up: no thing of the ${plan.thingsScanned} read carries Fleetkit's marker, or each is kept.`,
    );
  } else {
    lines.push(
      renderColumns([
        ['THING', 'CREATED BY', 'CERTIFICATE', 'GROUPS'],
        ...plan.things.map((thing) => [
          thing.thingName,
          describeMarker(thing.marker),
          thing.certificate?.certificateId ?? '(not attached)',
          thing.staticGroups.length === 0 ? '-' : thing.staticGroups.join(', '),
        ]),
      ]).trimEnd(),
      `${plan.things.length} thing(s) to remove, of ${plan.thingsScanned} read.`,
    );
  }
  for (const skipped of plan.skipped) lines.push(`kept ${skipped.thingName}: ${skipped.reason}`);
  return `${lines.join('\n')}\n`;
}

/** What execution did, thing by thing. */
export function renderCleanupResults(results: readonly CleanedThing[]): string {
  const lines = results.map((result) =>
    result.error === undefined
      ? `removed ${result.thingName}: ${result.done.join('; ')}`
      : `FAILED ${result.thingName} after: ${result.done.join('; ') || 'nothing'}: ${result.error}`,
  );
  const failed = results.filter((result) => result.error !== undefined).length;
  lines.push(
    `${results.length - failed} thing(s) removed${failed > 0 ? `, ${failed} failed (run again to finish)` : ''}.`,
  );
  return `${lines.join('\n')}\n`;
}
