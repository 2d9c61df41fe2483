import { ContactPointBuilder, NotificationPolicyBuilder, QueryBuilder, RuleBuilder } from '@grafana/grafana-foundation-sdk/alerting';
import type { NotificationPolicy, Rule } from '@grafana/grafana-foundation-sdk/alerting';
import { TypeReduceBuilder, TypeThresholdBuilder } from '@grafana/grafana-foundation-sdk/expr';
import { DataqueryBuilder as PromQuery } from '@grafana/grafana-foundation-sdk/prometheus';
import type { Severity } from '../contract/thresholds.ts';
import type { MixinConfig } from './mixin-config.ts';
import { runbookUrl } from './mixin-config.ts';
import { formatLimit, signals } from './signals.ts';
import { grouping } from './selectors.ts';

/**
 * Grafana-managed alerting, for teams that alert from Grafana rather than
 * Alertmanager (`grafana.managedAlerts: true`): the same signals and limits as
 * the Prometheus rules, contact points, and a notification policy that routes
 * by severity as prometheus/alertmanager.yml does. Off by default, so that
 * each alert exists once. Built with grafana-foundation-sdk's alerting
 * builders and written in Grafana's file-provisioning format.
 */

const ORG = 1;
const GROUP = 'uuid-lookup';
const RECEIVERS: Record<Severity, string> = { critical: 'uuid-lookup-critical-page', warning: 'uuid-lookup-warning-ticket' };

function rule(config: MixinConfig, signal: ReturnType<typeof signals>[number], severity: Severity): Rule {
  const prometheus = config.grafana.prometheusUid;
  const limit = signal.threshold[severity] * signal.scale;
  return new RuleBuilder(`${signal.alert} (${severity})`)
    .uid(`${signal.alert.toLowerCase().slice(0, 30)}-${severity}`)
    .condition('C')
    .withQuery(
      new QueryBuilder('A')
        .datasourceUid(prometheus)
        .relativeTimeRange({ from: 600, to: 0 })
        // Per cluster and job; no value without enough traffic: Grafana's "no data" is OK, not a breach.
        .model(new PromQuery().refId('A').expr(`${signal.record} and on(${grouping(config)}) ${signal.guardRecord} >= ${signal.guardMin}`).instant()),
    )
    .withQuery(new QueryBuilder('B').datasourceUid('__expr__').model(new TypeReduceBuilder().refId('B').expression('A').reducer('last').settings({ mode: 'dropNN' })))
    .withQuery(
      new QueryBuilder('C')
        .datasourceUid('__expr__')
        .model(new TypeThresholdBuilder().refId('C').expression('B').conditions([{ evaluator: { type: 'gt', params: [limit] } }])),
    )
    .noDataState('OK')
    .execErrState('Error')
    .forDuration(config.forDuration[severity])
    .labels({ severity, ...config.alerts[signal.alert]?.labels })
    .annotations({
      summary: signal.summary,
      description: `Above the ${severity} limit of ${formatLimit(signal.threshold, severity)}.`,
      runbook_url: runbookUrl(config, signal.alert),
      ...(config.alerts[signal.alert]?.dashboardUrl === undefined ? {} : { dashboard_url: config.alerts[signal.alert]?.dashboardUrl ?? '' }),
    })
    .build();
}

/** The rule file (grafana/provisioning/alerting/uuid-lookup-alerts.yml): one group in the configured folder. */
export function grafanaAlertRules(config: MixinConfig): unknown {
  // The threshold alerts, but those the configuration turned off; with its labels and dashboard link.
  const rules = signals(config)
    .filter((signal) => config.alerts[signal.alert]?.enabled !== false)
    .flatMap((signal) => (['warning', 'critical'] as const).map((severity) => rule(config, signal, severity)));
  return {
    apiVersion: 1,
    groups: [
      {
        orgId: ORG,
        name: GROUP,
        folder: config.grafana.folder,
        interval: '1m',
        // The provisioning file names the group and folder above, not on each rule.
        // The SDK's query models carry a marker method: JSON keeps the data alone.
        rules: rules.map(({ uid, title, condition, data, noDataState, execErrState, for: forDuration, labels, annotations }) => ({
          uid, title, condition, data: JSON.parse(JSON.stringify(data)) as unknown, noDataState, execErrState, for: forDuration, labels, annotations,
        })),
      },
    ],
  };
}

/** Contact points and the notification policy (grafana/provisioning/alerting/uuid-lookup-notifications.yml). */
export function grafanaNotifications(config: MixinConfig): unknown {
  const urls: Record<Severity, string> = { critical: config.grafana.criticalWebhookUrl, warning: config.grafana.warningWebhookUrl };
  const contactPoints = (['critical', 'warning'] as const).map((severity) => {
    const { type, uid, settings, disableResolveMessage } = new ContactPointBuilder()
      .uid(RECEIVERS[severity])
      .name(RECEIVERS[severity])
      .type('webhook')
      .settings({ url: urls[severity], httpMethod: 'POST' })
      .disableResolveMessage(false)
      .build();
    return { orgId: ORG, name: RECEIVERS[severity], receivers: [{ uid, type, settings, disableResolveMessage }] };
  });
  const route = (severity: Severity, wait: string, repeat: string): NotificationPolicyBuilder =>
    new NotificationPolicyBuilder().receiver(RECEIVERS[severity]).objectMatchers([['severity', '=', severity]]).groupWait(wait).repeatInterval(repeat);
  // As alertmanager.yml: critical pages at once and hourly, warnings batch into tickets.
  const policy: NotificationPolicy = new NotificationPolicyBuilder()
    .receiver(RECEIVERS.warning)
    .groupBy(['alertname', 'severity'])
    .groupWait('30s')
    .groupInterval('5m')
    .repeatInterval('4h')
    .routes([route('critical', '10s', '1h'), route('warning', '30s', '4h')])
    .build();
  return { apiVersion: 1, contactPoints, policies: [{ orgId: ORG, ...policy }] };
}
