import * as fs from 'node:fs';
import * as path from 'node:path';
import { JobDocumentError } from '../../core/jobs/document';
import { releaseRecordPath, releaseRecordSchema, type ReleaseRecord } from '../../core/jobs/release';
import { templateDocumentText } from '../../core/jobs/templates';
import { latestVersionOf, type JobTemplateConfig } from './remote-management';
import type { FleetConfig } from './schema';

/*
 * The files remote management reads at synth: each listed firmware version's release record, and each custom
 * template's document. Read here, once, so that every job template's document is built and checked with the
 * contract's parser before anything is synthesized.
 */

/** A job template with its document built and checked. */
export interface ResolvedJobTemplate {
  /** The template's name in the configuration. */
  readonly name: string;
  readonly config: JobTemplateConfig;
  /** The document's JSON text, with markers for the firmware bucket and region (core/jobs/templates.ts). */
  readonly documentText: string;
  /** firmware-update: the release it installs. */
  readonly release?: ReleaseRecord;
}

/** Remote management's files, read and checked. */
export interface ResolvedRemoteManagement {
  readonly jobTemplates: readonly ResolvedJobTemplate[];
  /** Release records by package name, in the order of `versions`. */
  readonly releases: ReadonlyMap<string, readonly ReleaseRecord[]>;
}

/**
 * Reads the release records and custom documents the configuration names, relative to `baseDir`, and builds
 * every template's document. Problems are added to `problems`, each naming its configuration path.
 */
export function resolveRemoteManagement(
  config: FleetConfig,
  baseDir: string,
  problems: string[],
): ResolvedRemoteManagement {
  const releases = new Map<string, ReleaseRecord[]>();
  const firmware = config.firmware;
  if (firmware !== undefined) {
    const releasesDir = path.resolve(baseDir, firmware.releasesDir);
    for (const [packageName, pkg] of Object.entries(firmware.packages)) {
      const records: ReleaseRecord[] = [];
      pkg.versions.forEach((version, index) => {
        const at = `firmware.packages.${packageName}.versions[${index}]`;
        const file = path.join(releasesDir, releaseRecordPath(packageName, version));
        const record = readReleaseRecord(file, at, version, problems);
        if (record === undefined) return;
        if (record.packageName !== packageName || record.version !== version) {
          problems.push(
            `${at}: ${JSON.stringify(version)}: the release record ${file} is for ${record.packageName} ${record.version}; it was moved or edited`,
          );
          return;
        }
        records.push(record);
      });
      releases.set(packageName, records);
    }
  }

  const jobTemplates: ResolvedJobTemplate[] = [];
  for (const [name, template] of Object.entries(config.jobs.templates)) {
    const at = `jobs.templates.${name}`;
    const builder = {
      ...(template.handlerPath !== undefined && { handlerPath: template.handlerPath }),
      ...(template.runAsUser !== undefined && { runAsUser: template.runAsUser }),
    };
    try {
      if (template.type === 'firmware-update') {
        const pkg = firmware?.packages[template.package!];
        const version = template.version ?? (pkg && latestVersionOf(pkg));
        const release = releases.get(template.package!)?.find((record) => record.version === version);
        // A missing package, version or record was reported already, by the schema or above.
        if (firmware === undefined || release === undefined) continue;
        const documentText = templateDocumentText({
          type: 'firmware-update',
          release,
          signingCertificateName: firmware.signing.signingCertificateName,
          builder,
        });
        jobTemplates.push({ name, config: template, documentText, release });
      } else if (template.type === 'custom') {
        const file = path.resolve(baseDir, template.documentFile!);
        let text: string;
        try {
          text = fs.readFileSync(file, 'utf8');
        } catch {
          problems.push(
            `${at}.documentFile: ${JSON.stringify(template.documentFile)} cannot be read (looked at ${file})`,
          );
          continue;
        }
        const documentText = templateDocumentText({ type: 'custom', text });
        jobTemplates.push({ name, config: template, documentText });
      } else {
        jobTemplates.push({
          name,
          config: template,
          documentText: templateDocumentText({ type: template.type, builder }),
        });
      }
    } catch (error) {
      if (!(error instanceof JobDocumentError)) throw error;
      const where = template.type === 'custom' ? `${at}.documentFile` : at;
      problems.push(`${where}: the job document is not valid: ${error.message}`);
    }
  }
  return { jobTemplates, releases };
}

function readReleaseRecord(
  file: string,
  at: string,
  version: string,
  problems: string[],
): ReleaseRecord | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    problems.push(
      `${at}: ${JSON.stringify(version)} has no release record (looked at ${file}): upload the file with \`npx fleetkit firmware upload\`, which signs it, registers the version and writes the record`,
    );
    return undefined;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    problems.push(`${at}: the release record ${file} is not JSON: ${(error as Error).message}`);
    return undefined;
  }
  const parsed = releaseRecordSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    problems.push(
      `${at}: the release record ${file} is not one \`fleetkit firmware upload\` writes: ${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
    return undefined;
  }
  return parsed.data;
}
