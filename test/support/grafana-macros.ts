// What Grafana does to a panel's query before it reaches the datasource, for
// tests and benchmarks that run the dashboards' queries on the real servers.

/** The PostgreSQL datasource's time macros over a range (Grafana: pkg/tsdb/grafana-postgresql-datasource/macros.go). */
export function expandSqlMacros(sql: string, range: { from: Date; to: Date }): string {
  const from = `'${range.from.toISOString()}'`;
  const to = `'${range.to.toISOString()}'`;
  return sql
    .replace(/\$__timeFilter\(([^)]+)\)/g, (_m, column: string) => `${column.trim()} BETWEEN ${from} AND ${to}`)
    .replace(/\$__timeFrom\(\)/g, from)
    .replace(/\$__timeTo\(\)/g, to);
}

/** Template variables (a multi-value one as Grafana's regex format, All as its allValue) and the interval variables. */
export function expandPromQL(expr: string, vars: { job: string[] | 'All'; instance: string[] | 'All'; rateInterval: string; range: string }): string {
  const regex = (values: string[] | 'All') => (values === 'All' ? '.+' : values.length === 1 ? (values[0] ?? '') : `(${values.join('|')})`);
  return expr
    .replace(/\$__rate_interval/g, vars.rateInterval)
    .replace(/\$__range/g, vars.range)
    .replace(/\$job\b/g, regex(vars.job))
    .replace(/\$instance\b/g, regex(vars.instance));
}
