/**
 * The dashboards, one file each under dashboards/, on the panel builders of
 * dashboards/panels.ts (Grafana's typed builders, grafana-foundation-sdk, and
 * the rules of grafana/dashboard-linter they keep to).
 */
export { analyticsDashboard, HEATMAP_SQL } from './dashboards/analytics-dashboard.ts';
export { lookupDashboard, sloPanelTitles } from './dashboards/lookup-dashboard.ts';
export { migrationDashboard } from './dashboards/migration-dashboard.ts';
export { GRAFANA_TIME_WINDOW, POSTGRES_DS, PROMETHEUS_DS } from './dashboards/panels.ts';
