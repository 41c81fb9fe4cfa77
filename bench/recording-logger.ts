/**
 * A stand-in for the Powertools `Logger` that keeps the JITR handler's log records in memory, so the storm can
 * read what each event came to (provisioned, rejected with a reason, duplicate, failed with which error) and
 * when, without writing thousands of JSON lines to the terminal.
 *
 * It implements the part of `Logger` the handler uses: `createChild({ persistentKeys })`, `debug`, `info`,
 * `warn` and `error` with a message and an optional object of extra keys.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { realClock, type Clock } from './queue-model';
import { nameOf } from '../core/errors';

/** One log record. */
export interface LogRecord {
  /** Clock time of the call. */
  readonly at: number;
  readonly level: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  readonly message: string;
  /** Persistent keys of the logger (e.g. `messageId`, `certificateId`) and the call's extra keys. */
  readonly keys: Readonly<Record<string, unknown>>;
}

/** Collects records from every logger derived from it. */
export class LogRecorder {
  readonly records: LogRecord[] = [];

  constructor(private readonly clock: Clock = realClock) {}

  /** A root logger; pass it as the handler's `logger`. */
  logger(): Logger {
    return this.child({}) as unknown as Logger;
  }

  private child(persistent: Readonly<Record<string, unknown>>): object {
    const log =
      (level: LogRecord['level']) =>
      (message: string, ...extra: unknown[]): void => {
        const keys: Record<string, unknown> = { ...persistent };
        for (const item of extra) {
          if (item instanceof Error) keys.error = item;
          else if (item !== null && typeof item === 'object') Object.assign(keys, item);
        }
        this.records.push({ at: this.clock(), level, message, keys });
      };
    return {
      createChild: (options?: { persistentKeys?: Record<string, unknown> }) =>
        this.child({ ...persistent, ...options?.persistentKeys }),
      debug: log('DEBUG'),
      info: log('INFO'),
      warn: log('WARN'),
      error: log('ERROR'),
    };
  }
}

/** What the handler's log says about one certificate. */
export interface CertificateLog {
  /**
   * First time the handler logged a final outcome (provisioned or rejected) for it or, when an attempt died
   * after activating or revoking, the first time a later event found it already ACTIVE or REVOKED.
   */
  readonly finalAt?: number;
  readonly outcome?: 'provisioned' | 'rejected';
  /** The rejection code the handler logged with the revocation. */
  readonly rejectionReason?: string;
  /** Events for it that needed no action (duplicates), by reason. */
  readonly skipped: Readonly<Record<string, number>>;
  /** Failed attempts, by error name. */
  readonly failures: Readonly<Record<string, number>>;
}

/** Groups the handler's records by certificate ID. Record shapes follow lambda/jitr/handler.ts. */
export function certificateLogs(records: readonly LogRecord[]): Map<string, CertificateLog> {
  const out = new Map<
    string,
    {
      finalAt?: number;
      outcome?: 'provisioned' | 'rejected';
      rejectionReason?: string;
      skipped: Record<string, number>;
      failures: Record<string, number>;
      alreadyFinalAt?: number;
    }
  >();
  for (const record of records) {
    const id = record.keys.certificateId;
    if (typeof id !== 'string') continue;
    let entry = out.get(id);
    if (entry === undefined) {
      entry = { skipped: {}, failures: {} };
      out.set(id, entry);
    }
    const outcome = record.keys.outcome;
    if (outcome === 'provisioned' || outcome === 'rejected') {
      if (entry.finalAt === undefined) {
        entry.finalAt = record.at;
        entry.outcome = outcome;
      }
      if (outcome === 'rejected' && typeof record.keys.reason === 'string') {
        entry.rejectionReason ??= record.keys.reason;
      }
    } else if (outcome === 'skipped') {
      const reason = String(record.keys.reason ?? 'unknown');
      entry.skipped[reason] = (entry.skipped[reason] ?? 0) + 1;
      // CONCURRENT: this attempt completed the onboarding alongside the one that claimed the thing.
      if (reason === 'ALREADY_ACTIVE' || reason === 'ALREADY_REVOKED' || reason === 'CONCURRENT') {
        entry.alreadyFinalAt ??= record.at;
      }
    } else if (record.keys.error !== undefined && (record.level === 'WARN' || record.level === 'ERROR')) {
      const name = errorName(record.keys.error);
      entry.failures[name] = (entry.failures[name] ?? 0) + 1;
    }
  }
  return new Map(
    [...out].map(([id, { alreadyFinalAt, ...entry }]) => [
      id,
      entry.finalAt === undefined && alreadyFinalAt !== undefined
        ? { ...entry, finalAt: alreadyFinalAt }
        : entry,
    ]),
  );
}

/** Failed attempts over all records, by error name (records without a certificate ID included). */
export function failuresByError(records: readonly LogRecord[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const record of records) {
    if (record.keys.error === undefined || record.keys.outcome !== undefined) continue;
    if (record.level !== 'WARN' && record.level !== 'ERROR') continue;
    const name = errorName(record.keys.error);
    out[name] = (out[name] ?? 0) + 1;
  }
  return out;
}

function errorName(error: unknown): string {
  return nameOf(error) || 'Error';
}
