/**
 * The alerting guidelines that `mixtool lint` checks on a mixin's Prometheus alerts
 * (monitoring-mixins/mixtool, pkg/mixer/lint.go; https://monitoring.mixins.dev,
 * "Guidelines for alert names, labels, and annotations"), written here from their
 * description: alert names in CamelCase; a severity of warning, critical or info; a
 * description that uses templates; a summary without templates that reads as a
 * sentence (a capital first, a full stop last).
 */
export interface LintedRule {
  alert?: string;
  record?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface MixtoolFinding {
  rule: 'alert-name-camelcase' | 'alert-severity-rule' | 'alert-description-missing-rule' | 'alert-description-templating' | 'alert-summary-missing-rule' | 'alert-summary-templating' | 'alert-summary-style';
  alert: string;
}

const CAMEL_CASE = /^([A-Z]+[a-z0-9]+)+$/;
const TEMPLATE = /\{\{.+\}\}/;
const SENTENCE = /^[A-Z].+\.$/;

export function lintAlerts(groups: { rules: LintedRule[] }[]): MixtoolFinding[] {
  const findings: MixtoolFinding[] = [];
  for (const group of groups) {
    for (const rule of group.rules) {
      const alert = rule.alert;
      if (alert === undefined) continue; // recording rules: not linted
      const add = (name: MixtoolFinding['rule']) => findings.push({ rule: name, alert });
      if (!CAMEL_CASE.test(alert)) add('alert-name-camelcase');
      if (!['warning', 'critical', 'info'].includes(rule.labels?.severity ?? '')) add('alert-severity-rule');
      const description = rule.annotations?.description;
      if (description === undefined) add('alert-description-missing-rule');
      else if (!TEMPLATE.test(description)) add('alert-description-templating');
      const summary = rule.annotations?.summary;
      if (summary === undefined) add('alert-summary-missing-rule');
      else {
        if (TEMPLATE.test(summary)) add('alert-summary-templating');
        if (!SENTENCE.test(summary)) add('alert-summary-style');
      }
    }
  }
  return findings;
}
