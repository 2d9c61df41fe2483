import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { analyticsTitles, costliestServicesSql, journeyComparisonSql, patternsSql, regionsSql } from '../../contract/analytics-queries.ts';
import { PROMETHEUS_NAMES } from '../../contract/metrics.ts';
import type { MixinConfig } from '../mixin-config.ts';
import { dashboard, GRAFANA_TIME_WINDOW, panelMatchers, Panels, ROLLUP_FRESHNESS } from './panels.ts';

/**
 * Lookups per hour of day (rows) and day (columns) from the hourly rollup, one
 * field per hour: the "rows" layout Grafana's heatmap reads without calculating.
 */
export const HEATMAP_SQL = `SELECT date_trunc('day', bucket) AS time,
${Array.from({ length: 24 }, (_, h) => `  sum(lookups) FILTER (WHERE extract(hour FROM bucket) = ${h}) AS "${String(h).padStart(2, '0')}"`).join(',\n')}
FROM public.analytics_lookup_hourly
WHERE $__timeFilter(bucket)
GROUP BY 1
ORDER BY 1`;

const FIGURE_UNITS = { avg_ms: 'ms', p95_ms_at_most: 'ms', failure_rate: 'percent', fallback_rate: 'percent', day_of_week: 'none', hour: 'none' };

/** Phase 6 analytics: time of day, geography, user journeys, over the time picker's range. */
export function analyticsDashboard(config: MixinConfig): Dashboard {
  const VARS = panelMatchers(config, 'lookup');
  const w = GRAFANA_TIME_WINDOW;
  const p = new Panels(config);
  const rollup = 'from the hourly rollup, whole hours of the selected time range';
  p.heatmap('Lookups by hour of day (UTC)', `Lookups per hour of day (rows) and day (columns), ${rollup}. ${ROLLUP_FRESHNESS}`, { x: 0, y: 0, w: 24, h: 9 }, HEATMAP_SQL);
  p.sqlTable(analyticsTitles.patterns, `Lookups, average and p95 time, failure and fallback rates by ISO day of week (1 = Monday) and hour, ${rollup}. ${ROLLUP_FRESHNESS}`, { x: 0, y: 9, w: 12, h: 10 }, {
    sql: patternsSql(w, "'UTC'"),
    unit: 'short',
    units: FIGURE_UNITS,
  });
  p.sqlTable(analyticsTitles.regions, `The same figures by the region the SDK reported, ${rollup}. ${ROLLUP_FRESHNESS}`, { x: 12, y: 9, w: 12, h: 10 }, { sql: regionsSql(w), unit: 'short', units: FIGURE_UNITS });
  p.geomap('Lookups by region (map)', `Regions that are ISO 3166 country codes, sized by lookups and coloured by average time, ${rollup}. ${ROLLUP_FRESHNESS}`, { x: 0, y: 19, w: 12, h: 10 }, regionsSql(w));
  p.timeseries('Lookups per second by region', 'The metrics\' region label: known regions by name, the rest as other (bounded cardinality).', { x: 12, y: 19, w: 12, h: 10 }, {
    unit: 'reqps',
    exprs: [{ expr: `sum by (region) (rate(${PROMETHEUS_NAMES.lookups}{${VARS}}[$__rate_interval]))`, legend: '{{region}}' }],
  });
  p.sqlTable(analyticsTitles.journeys, `Wizard sessions that saw a lookup failure or fallback against clean ones: submissions and the median time to submit, from the daily journey rollup (whole UTC days). ${ROLLUP_FRESHNESS}`, { x: 0, y: 29, w: 12, h: 6 }, {
    sql: journeyComparisonSql(w),
    unit: 'short',
    units: { submission_rate: 'percent', median_seconds_to_submit_at_most: 's' },
  });
  p.sqlTable(analyticsTitles.costliest, `Services whose failures or fallbacks cost the most submissions, against the clean sessions' submission rate (whole UTC days). ${ROLLUP_FRESHNESS}`, { x: 12, y: 29, w: 12, h: 10 }, {
    sql: costliestServicesSql(w),
    unit: 'short',
    units: { submission_rate: 'percent' },
  });
  return dashboard(config, {
    uid: 'uuid-lookup-analytics',
    title: 'UUID lookup analytics',
    description: 'Lookup patterns by time of day, by region, and user journeys (spec: Future Enhancements, Advanced Analytics).',
    jobMetric: PROMETHEUS_NAMES.lookups,
    jobs: [config.lookupJob],
    targets: ['lookup'],
    panels: p,
  });
}
