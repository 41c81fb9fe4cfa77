/**
 * How `fleetkit` shows dates, keys, attributes and expiry in its text output (the JSON output is raw values).
 */
import { CA_EXPIRY_WARNING_DAYS } from '../../core/metrics';

/** Formats a date as `YYYY-MM-DD HH:MM:SS UTC`. */
export function formatDate(date: Date): string {
  return `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** `key=value, key=value` in key order, or `-`. */
export function describeAttributes(attributes: Record<string, string> | undefined): string {
  const entries = Object.entries(attributes ?? {}).sort(([a], [b]) => a.localeCompare(b));
  return entries.length === 0 ? '-' : entries.map(([key, value]) => `${key}=${value}`).join(', ');
}

/** `12 day(s) left`, or `expired 3 day(s) ago` for a negative count. */
export function describeDaysLeft(daysLeft: number): string {
  return daysLeft < 0 ? `expired ${-daysLeft} day(s) ago` : `${daysLeft} day(s) left`;
}

/**
 * A CA's expiry: `2030-01-01 00:00:00 UTC (12 day(s) left)`, flagged for renewal under
 * {@link CA_EXPIRY_WARNING_DAYS} (the threshold of the expiry alarm), or why it is unknown.
 */
export function describeCaExpiry(
  notAfter: string | undefined,
  daysLeft: number | undefined,
  problem?: string,
): string {
  if (notAfter === undefined || daysLeft === undefined) {
    return `expiry unknown${problem ? ` (${problem})` : ''}`;
  }
  const flag =
    daysLeft < CA_EXPIRY_WARNING_DAYS ? '  << renew: register its successor and move the devices' : '';
  return `${formatDate(new Date(notAfter))} (${describeDaysLeft(daysLeft)})${flag}`;
}

/**
 * Rows as aligned columns, two spaces apart, the last column left ragged: the first row is the header. One line
 * per row, each ending in a newline.
 */
export function renderColumns(rows: readonly (readonly string[])[]): string {
  if (rows.length === 0) return '';
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  return rows
    .map((row) =>
      row
        .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!)))
        .join('  ')
        .trimEnd(),
    )
    .map((line) => `${line}\n`)
    .join('');
}
