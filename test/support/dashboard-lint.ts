// The rules of grafana/dashboard-linter (lint/rule_*.go), written again from
// its rule list for the tests, with the Prometheus project's PromQL grammar
// (@prometheus-io/lezer-promql) where the linter uses Prometheus's parser.
// Where the issue asks for more than the linter, a rule is stricter and says
// so: descriptions, datasources and units on every panel type, not only on
// the linter's list of types. Each rule returns findings, one line each.
import { parser } from '@prometheus-io/lezer-promql';

type SyntaxNode = ReturnType<typeof parser.parse>['topNode'];

export interface Finding {
  rule: string;
  where: string;
  message: string;
}

interface Template {
  name: string;
  type: string;
  label?: string;
  query?: string | { query?: string };
  datasource?: { uid?: string; type?: string } | string;
  multi?: boolean;
  allValue?: string;
  refresh?: number;
}

interface Target {
  refId?: string;
  expr?: string;
  rawSql?: string;
  datasource?: { uid?: string; type?: string };
}

interface Panel {
  id?: number;
  type: string;
  title?: string;
  description?: string;
  datasource?: { uid?: string; type?: string };
  targets?: Target[];
  fieldConfig?: {
    defaults?: { unit?: string; mappings?: unknown[] };
    overrides?: { properties?: { id: string; value?: unknown }[] }[];
  };
  panels?: Panel[];
}

export interface LintedDashboard {
  uid?: string;
  title?: string;
  editable?: boolean;
  templating?: { list?: Template[] };
  panels?: Panel[];
}

/** Grafana's global variables as sample values: ranges become durations the rules recognise. */
const MAGIC: Record<string, string> = {
  __rate_interval: '8869990787ms',
  __interval: '4867856611ms',
  __range: '6069770749ms',
  __auto: '12345ms',
};

/** Panel types the linter's panel rules cover; the stricter rules below cover every type with targets. */
const LINTER_PANEL_TYPES = new Set(['stat', 'singlestat', 'graph', 'table-old', 'timeseries', 'gauge']);

/** Grafana's unit ids (its value formats), the ones a panel of ours may use and their common neighbours. */
const UNITS = new Set([
  'none', 'string', 'short', 'percent', 'percentunit', 'locale', 'sci',
  'ns', 'µs', 'ms', 's', 'm', 'h', 'd', 'dtdurationms', 'dtdurations', 'dthms', 'clockms', 'clocks',
  'dateTimeAsIso', 'dateTimeAsUS', 'dateTimeAsLocal', 'dateTimeFromNow',
  'cps', 'ops', 'reqps', 'rps', 'wps', 'iops', 'cpm', 'opm', 'rpm', 'wpm',
  'bytes', 'decbytes', 'bits', 'decbits', 'Bps', 'bps', 'hertz', 'bool', 'bool_yes_no', 'bool_on_off',
]);

/** A datasource template's expected name: `<type>_datasource`, the PostgreSQL plugin by its alias (a variable name cannot hold '-'). */
function datasourceVariableName(pluginType: string): string {
  return `${pluginType === 'grafana-postgresql-datasource' ? 'postgres' : pluginType.toLowerCase()}_datasource`;
}

const titleCase = (s: string): string => s.replace(/\b\w/g, (c) => c.toUpperCase());
const queryText = (t: Template): string => (typeof t.query === 'string' ? t.query : (t.query?.query ?? ''));

function allPanels(d: LintedDashboard): Panel[] {
  return (d.panels ?? []).flatMap((p) => [p, ...(p.panels ?? [])]).filter((p) => p.type !== 'row');
}

function datasourceTemplates(d: LintedDashboard): Template[] {
  return (d.templating?.list ?? []).filter((t) => t.type === 'datasource');
}

function hasPrometheusTemplate(d: LintedDashboard): boolean {
  return datasourceTemplates(d).some((t) => queryText(t) === 'prometheus');
}

/** Parses PromQL with Grafana's variables expanded: `$__rate_interval` to a duration the rules recognise. */
export function parsePromQL(expr: string): { tree: SyntaxNode; text: string; error?: string } {
  const text = expr
    .replace(/\$\{?(__\w+)\}?/g, (whole, name: string) => MAGIC[name] ?? whole)
    .replace(/\$\{?(\w+)\}?/g, (_whole, name: string) => name);
  const tree = parser.parse(text);
  let error: string | undefined;
  tree.iterate({
    enter: (node) => {
      if (node.type.isError && error === undefined) error = `parse error at ${node.from}: ${JSON.stringify(text.slice(Math.max(0, node.from - 10), node.to + 10))}`;
    },
  });
  return { tree: tree.topNode, text, error };
}

function walk(node: SyntaxNode, visit: (n: SyntaxNode) => void): void {
  visit(node);
  for (let child = node.firstChild; child !== null; child = child.nextSibling) walk(child, visit);
}

/** The function a range selector is the argument of, if any. */
function enclosingFunction(matrix: SyntaxNode, text: string): string | undefined {
  const body = matrix.parent;
  const call = body?.name === 'FunctionCallBody' ? body.parent : null;
  const id = call?.name === 'FunctionCall' ? call.getChild('FunctionIdentifier') : null;
  return id ? text.slice(id.from, id.to) : undefined;
}

function promTargetFindings(d: LintedDashboard, p: Panel, t: Target, where: string): Finding[] {
  const findings: Finding[] = [];
  const add = (rule: string, message: string) => findings.push({ rule, where, message });
  const expr = t.expr ?? '';
  if (expr.trim() === '') {
    add('target-promql-rule', 'empty PromQL query');
    return findings;
  }
  const { tree, text, error } = parsePromQL(expr);
  if (error) {
    add('target-promql-rule', `invalid PromQL query '${expr}': ${error}`);
    return findings;
  }
  walk(tree, (node) => {
    if (node.name === 'VectorSelector') {
      const matchers = new Map<string, { op: string; value: string }>();
      for (const m of node.getChild('LabelMatchers')?.getChildren('UnquotedLabelMatcher') ?? []) {
        const name = m.getChild('LabelName');
        const op = m.getChild('MatchOp');
        const value = m.getChild('StringLiteral');
        if (name && op && value) matchers.set(text.slice(name.from, name.to), { op: text.slice(op.from, op.to), value: text.slice(value.from + 1, value.to - 1) });
      }
      for (const label of ['job', 'instance']) {
        const m = matchers.get(label);
        if (m?.op !== '=~' || m.value !== label) add(`target-${label}-rule`, `selector '${text.slice(node.from, node.to)}' in '${expr}' lacks ${label}=~"$${label}"`);
      }
      const id = node.getChild('Identifier');
      const metric = id ? text.slice(id.from, id.to) : '';
      if (metric.endsWith('_total')) {
        const matrix = node.parent?.name === 'MatrixSelector' ? node.parent : null;
        const fn = matrix ? enclosingFunction(matrix, text) : undefined;
        if (!fn || !['rate', 'irate', 'increase'].includes(fn)) add('target-counter-agg-rule', `counter '${metric}' in '${expr}' is not aggregated with rate, irate or increase`);
      }
    }
    if (node.name === 'MatrixSelector') {
      const fn = enclosingFunction(node, text);
      const range = node.getChild('DurationExpr') ?? node.lastChild;
      const duration = range ? text.slice(range.from, range.to) : '';
      if ((fn === 'rate' || fn === 'irate') && duration !== MAGIC.__rate_interval) add('target-rate-interval-rule', `'${expr}' should use $__rate_interval, uses [${duration}]`);
    }
  });
  void d;
  void p;
  return findings;
}

/**
 * A finding the dashboards accept on purpose, as dashboard-linter's `.lint` file
 * lists them: a rule, a dashboard, a panel, and why.
 */
export interface LintExclusion {
  rule: string;
  dashboard: string;
  panel: string;
  reason: string;
}

/** Every rule on one dashboard, but the findings `exclusions` accept. */
export function lintDashboard(d: LintedDashboard, exclusions: LintExclusion[] = []): Finding[] {
  const excluded = new Set(exclusions.map((e) => `${e.rule}|${e.dashboard} / ${e.panel}`));
  return allFindings(d).filter((f) => !excluded.has(`${f.rule}|${f.where}`));
}

function allFindings(d: LintedDashboard): Finding[] {
  const findings: Finding[] = [];
  const name = d.uid ?? d.title ?? 'dashboard';
  const add = (rule: string, where: string, message: string) => findings.push({ rule, where, message });
  const templates = d.templating?.list ?? [];
  const dsTemplates = datasourceTemplates(d);

  // template-datasource-rule
  if (dsTemplates.length === 0) add('template-datasource-rule', name, 'does not have a templated data source');
  for (const t of dsTemplates) {
    const type = queryText(t);
    const expected = datasourceVariableName(type);
    const allowed = dsTemplates.length === 1 ? [expected, 'datasource'] : [expected];
    if (!allowed.includes(t.name)) add('template-datasource-rule', name, `templated data source variable named '${t.name}', should be named '${allowed.join("' or '")}'`);
    const label = `${titleCase(expected.replace(/_datasource$/, '').replace('postgres', 'PostgreSQL'))} data source`;
    if (t.label !== label && !(dsTemplates.length === 1 && t.label === 'Data source')) {
      add('template-datasource-rule', name, `templated data source variable labeled '${t.label}', should be labeled '${label}'`);
    }
  }

  // template-job-rule, template-instance-rule
  if (hasPrometheusTemplate(d)) {
    for (const label of ['job', 'instance']) {
      const t = templates.find((x) => x.name === label);
      const rule = `template-${label}-rule`;
      if (!t) {
        add(rule, name, `is missing the ${label} template`);
        continue;
      }
      const uid = typeof t.datasource === 'string' ? t.datasource : t.datasource?.uid;
      if (!['$datasource', '${datasource}', '$prometheus_datasource', '${prometheus_datasource}'].includes(uid ?? '')) add(rule, name, `${label} template should use the templated Prometheus datasource, uses '${uid}'`);
      if (t.type !== 'query') add(rule, name, `${label} template should be a query, is '${t.type}'`);
      if (t.label !== titleCase(label)) add(rule, name, `${label} template should be labeled '${titleCase(label)}', is '${t.label}'`);
      if (!t.multi) add(rule, name, `${label} template should be a multi select`);
      if (t.allValue !== '.+') add(rule, name, `${label} template allValue should be '.+', is '${t.allValue}'`);
    }
  }

  for (const t of templates.filter((x) => x.type === 'query')) {
    // template-label-promql-rule
    if (hasPrometheusTemplate(d)) {
      const query = queryText(t);
      const call = /^([a-z_]+)\((.+)\)$/s.exec(query.trim());
      if (!call || !['label_names', 'label_values', 'metrics', 'query_result'].includes(call[1] ?? '')) {
        add('template-label-promql-rule', name, `template '${t.name}' has an invalid query '${query}'`);
      } else {
        const argument = call[1] === 'label_values' ? (call[2] ?? '').replace(/,\s*\w+\s*$/, '') : (call[2] ?? '');
        const parsed = call[1] === 'metrics' ? {} : parsePromQL(argument);
        if ('error' in parsed && parsed.error) add('template-label-promql-rule', name, `template '${t.name}' query '${query}': ${parsed.error}`);
      }
    }
    // template-on-time-change-reload-rule
    if (t.refresh !== 2) add('template-on-time-change-reload-rule', name, `template '${t.name}' should refresh on time range change (2), is ${t.refresh}`);
  }

  // uneditable-dashboard
  if (d.editable !== false) add('uneditable-dashboard', name, "is editable, it should be set to 'editable: false'");

  const dsVariables = new Set(dsTemplates.flatMap((t) => [`$${t.name}`, `\${${t.name}}`]));
  for (const p of allPanels(d)) {
    const where = `${name} / ${p.title ?? `panel ${p.id}`}`;
    const targets = p.targets ?? [];
    // panel-title-description-rule (stricter: every panel type)
    if (!p.title || !p.description) add('panel-title-description-rule', where, 'has a missing title or description');
    // panel-no-targets-rule
    if (LINTER_PANEL_TYPES.has(p.type) && targets.length === 0) add('panel-no-targets-rule', where, 'has no targets');
    // panel-datasource-rule (stricter: every panel with targets, and each target)
    if (targets.length > 0) {
      for (const uid of [p.datasource?.uid, ...targets.map((t) => t.datasource?.uid)]) {
        if (uid !== undefined && !dsVariables.has(uid)) add('panel-datasource-rule', where, `does not use a templated datasource, uses '${uid}'`);
      }
      if (p.datasource?.uid === undefined) add('panel-datasource-rule', where, 'has no datasource');
    }
    // panel-units-rule (stricter: tables too)
    if (LINTER_PANEL_TYPES.has(p.type) || p.type === 'table') {
      const overrides = (p.fieldConfig?.overrides ?? []).flatMap((o) => o.properties ?? []);
      const mapped = p.fieldConfig?.defaults?.mappings?.length || overrides.some((o) => o.id === 'mappings');
      const units = [p.fieldConfig?.defaults?.unit, ...overrides.filter((o) => o.id === 'unit').map((o) => String(o.value))].filter((u) => u !== undefined);
      if (!mapped && (units.length === 0 || units.some((u) => !UNITS.has(u ?? '')))) add('panel-units-rule', where, `has no or invalid units: '${units.join(', ')}'`);
    }
    // target rules, on the Prometheus targets of a dashboard with a templated Prometheus datasource
    if (hasPrometheusTemplate(d)) {
      for (const t of targets) {
        const type = t.datasource?.type ?? p.datasource?.type;
        if (type === 'prometheus' || t.expr !== undefined) findings.push(...promTargetFindings(d, p, t, where));
      }
    }
  }
  return findings;
}
