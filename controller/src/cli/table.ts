// Human output: aligned columns, dates as YYYY-MM-DD (UTC), and "key: value" blocks.

export interface Column<T> {
  header: string;
  value: (row: T) => string;
  align?: 'left' | 'right';
}

/** Columns separated by two spaces, each as wide as its widest cell; no trailing spaces. */
export function formatTable<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = rows.map((row) => columns.map((column) => oneLine(column.value(row))));
  const widths = columns.map((column, i) => Math.max(column.header.length, ...cells.map((line) => line[i].length)));
  const render = (line: string[]) => line
    .map((cell, i) => (columns[i].align === 'right' ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
    .join('  ')
    .trimEnd();
  return [render(columns.map((c) => c.header)), ...cells.map(render)].join('\n') + '\n';
}

/** "label:  value" lines with the values aligned. */
export function formatFields(fields: ReadonlyArray<readonly [string, string]>): string {
  const width = Math.max(...fields.map(([label]) => label.length)) + 1;
  return fields.map(([label, value]) => `${`${label}:`.padEnd(width)}  ${value}`).join('\n') + '\n';
}

export function formatDate(iso: string | null | undefined): string {
  return iso ? iso.slice(0, 10) : '-';
}

export function formatDateTime(iso: string | null | undefined): string {
  return iso ? `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC` : '-';
}

export function daysLeftText(days: number): string {
  if (days < 0) return `expired ${-days} day${days === -1 ? '' : 's'} ago`;
  return `${days} day${days === 1 ? '' : 's'} left`;
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** "Showing 1-50 of 1234 certificates", or what to say when nothing matched. */
export function pageFooter(page: { items: unknown[]; total: number; offset: number }, noun: string): string {
  if (page.total === 0) return `No ${noun} found.\n`;
  if (page.items.length === 0) return `No ${noun} at offset ${page.offset} (${page.total} in all).\n`;
  return `Showing ${page.offset + 1}-${page.offset + page.items.length} of ${page.total} ${noun}.\n`;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ');
}

/** "850 ms", "12.3 s", "4 min 05 s", "2 h 07 min": exact enough to compare stages at a glance. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '-';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, '0')} s`;
  const minutes = Math.round(seconds / 60);
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}
