/** Prints `value` as JSON (for machines) or as aligned `key  value` lines (for people). */
export function printRecord(value: object, json: boolean | undefined): void {
  if (json === true) {
    process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    return;
  }
  const entries = Object.entries(value);
  const width = entries.reduce((w, [key]) => Math.max(w, key.length), 0);
  for (const [key, item] of entries) process.stdout.write(`${key.padEnd(width)}  ${String(item)}\n`);
}

/** Prints threshold checks as people read them (`30 ms`, `25%`, `-` for no data). */
export function printThresholdChecks(
  checks: readonly { title: string; value: number | null; unit: 'ms' | 'percent'; warning: number; critical: number; state: string; basis?: string }[],
  options: { basis?: boolean } = {},
): void {
  printTable(
    checks.map((c) => ({
      threshold: c.title,
      value: c.value === null ? '-' : `${c.value}${c.unit === 'ms' ? ' ms' : '%'}`,
      warning: c.warning,
      critical: c.critical,
      state: c.state,
      ...(options.basis === true ? { basis: c.basis } : {}),
    })),
  );
}

/** Prints rows as a plain table with a header. */
export function printTable(input: readonly object[]): void {
  const rows = input as readonly Record<string, unknown>[];
  const first = rows[0];
  if (first === undefined) {
    process.stdout.write('(no rows)\n');
    return;
  }
  const columns = Object.keys(first);
  // numeric columns (AVG) come back with 20 digits: two decimals are what a person reads.
  const cell = (value: unknown): string =>
    value === null || value === undefined
      ? ''
      : Array.isArray(value)
        ? value.join(', ')
        : typeof value === 'string' && /^-?\d+\.\d{3,}$/.test(value)
          ? Number(value).toFixed(2)
          : value instanceof Date
            ? value.toISOString()
            : String(value);
  // A fold, not a spread: a report may have more rows than a call takes arguments.
  const widths = columns.map((column) => rows.reduce((w, row) => Math.max(w, cell(row[column]).length), column.length));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  process.stdout.write(`${line(columns)}\n${line(widths.map((w) => '-'.repeat(w)))}\n`);
  for (const row of rows) process.stdout.write(`${line(columns.map((column) => cell(row[column])))}\n`);
}
