import type { MixinConfig } from './mixin-config.ts';
import { formatLimit, runbookUrl, signals } from './mixin-config.ts';
import { PROMETHEUS } from './grafana-dashboards.ts';

/**
 * Grafana alert rules for file provisioning (grafana/provisioning/alerting), the
 * same signals and thresholds as the Prometheus rules, for teams that route
 * alerts from Grafana rather than Alertmanager.
 */
export function grafanaAlertRules(config: MixinConfig): unknown {
  const rules = signals(config).flatMap((signal) =>
    (['warning', 'critical'] as const).map((severity) => ({
      uid: `${signal.alert.toLowerCase().slice(0, 30)}-${severity}`,
      title: `${signal.alert} (${severity})`,
      condition: 'C',
      data: [
        {
          refId: 'A',
          relativeTimeRange: { from: 600, to: 0 },
          datasourceUid: PROMETHEUS.uid,
          // No value without enough traffic: Grafana's "no data" is OK, not a breach.
          model: { refId: 'A', expr: `${signal.record} and on() ${signal.guardRecord} >= ${signal.guardMin}`, instant: true },
        },
        { refId: 'B', datasourceUid: '__expr__', model: { refId: 'B', type: 'reduce', expression: 'A', reducer: 'last', settings: { mode: 'dropNN' } } },
        {
          refId: 'C',
          datasourceUid: '__expr__',
          model: {
            refId: 'C',
            type: 'threshold',
            expression: 'B',
            conditions: [{ evaluator: { type: 'gt', params: [signal.threshold[severity] * signal.scale] } }],
          },
        },
      ],
      noDataState: 'OK',
      execErrState: 'Error',
      for: config.forDuration[severity],
      labels: { severity },
      annotations: {
        summary: signal.summary,
        description: `Above the ${severity} limit of ${formatLimit(signal.threshold, severity)}.`,
        runbook_url: runbookUrl(config, signal.alert),
      },
    })),
  );
  return {
    apiVersion: 1,
    groups: [{ orgId: 1, name: 'uuid-lookup', folder: 'UUID lookup', interval: '1m', rules }],
  };
}
