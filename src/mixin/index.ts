/**
 * uuid-lookup-observability/mixin: the monitoring files (Prometheus rules and
 * their promtool tests, Grafana dashboards, optional Grafana-managed alerting)
 * rendered for a user's configuration, as `uuid-lookup mixin render` does.
 *
 * @example
 * ```ts
 * import { renderMonitoringFiles, resolveMixinConfig } from 'uuid-lookup-observability/mixin';
 * const files = renderMonitoringFiles(resolveMixinConfig({ lookupJob: 'booking-web', thresholds: { lookup_latency: { warning: 80, critical: 200 } } }));
 * ```
 */
export type { MixinConfig, MixinConfigInput, ThresholdKey, ThresholdLimits } from './mixin-config.ts';
export { DEFAULT_RUNBOOK_URL, defaultMixinConfig, MixinConfigError, resolveMixinConfig } from './mixin-config.ts';
export { renderMixinJson, renderMonitoringFiles, renderOperatorManifests } from './render-monitoring-files.ts';
export { prometheusRules } from './prometheus-rules.ts';
export { renderRuleTests } from './rule-tests.ts';
export { analyticsDashboard, lookupDashboard, migrationDashboard } from './grafana-dashboards.ts';
export { grafanaAlertRules, grafanaNotifications } from './grafana-alerts.ts';
