import randexp from 'randexp';
import { RE2JS } from 're2js';
import type { MixinConfig } from './mixin-config.ts';

// randexp is CommonJS whose module.exports is the class; its types call the class `default`.
const RandExp = randexp as unknown as typeof randexp.default;

/**
 * Which series the rules and dashboards read, beyond a job name: each target's
 * extra label matchers (`namespace="bookings"`), as kubernetes-mixin's
 * `*Selector` fields, and the label that tells clusters apart (its
 * `clusterLabel`). Every PromQL generator of the mixin takes its selectors and
 * groupings from here.
 */

/** The four kinds of scrape target the mixin reads. */
export type Target = 'lookup' | 'migration' | 'worker' | 'collector';

export interface Matcher {
  name: string;
  op: '=' | '!=' | '=~' | '!~';
  /** The value as PromQL reads it (escapes resolved). */
  value: string;
}

const LABEL = '[a-zA-Z_][a-zA-Z0-9_]*';
const MATCHER = new RegExp(`^\\s*(${LABEL})\\s*(=~|!~|!=|=)\\s*"((?:[^"\\\\\\n]|\\\\.)*)"\\s*(,|$)`);
const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', n: '\n', t: '\t' };

/**
 * `name="value", name=~"regex", …` as PromQL writes matchers inside braces.
 * Throws an Error saying what is wrong: another quote than `"`, a label name
 * that is not one, a missing operator, or a `job` / `__name__` matcher (the
 * job comes from the job keys, the metric from the rule).
 */
export function parseMatchers(text: string): Matcher[] {
  const matchers: Matcher[] = [];
  let rest = text.trim();
  while (rest !== '') {
    const m = MATCHER.exec(rest);
    if (m === null) {
      throw new Error(`cannot read ${JSON.stringify(rest)}: write label matchers as PromQL does inside braces, name="value" or name=~"regex", separated by commas, values in double quotes`);
    }
    const [whole, name = '', op = '=', raw = ''] = m;
    const value = raw.replace(/\\(.)/g, (_, c: string) => {
      const resolved = ESCAPES[c];
      if (resolved === undefined) throw new Error(`the escape \\${c} in ${JSON.stringify(raw)} is not one PromQL reads in a label value`);
      return resolved;
    });
    if (name === 'job') throw new Error('job is set by the job keys (lookupJob, migrationJob, workerJob, collectorJob), not by a selector');
    if (name.startsWith('__')) throw new Error(`${name}: labels starting with __ are Prometheus's own`);
    if (op === '=~' || op === '!~') {
      try {
        RE2JS.compile(value);
      } catch (error) {
        throw new Error(`${name}${op}${JSON.stringify(value)}: not a regular expression Prometheus reads (RE2: ${(error as Error).message})`, { cause: error });
      }
    }
    matchers.push({ name, op: op as Matcher['op'], value });
    rest = rest.slice(whole.length);
    if (whole.trimEnd().endsWith(',') && rest.trim() === '') throw new Error(`${JSON.stringify(text)} ends with a comma`);
  }
  return matchers;
}

function quote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\t/g, '\\t')}"`;
}

/** A target's job name; '' for a worker or collector the configuration leaves out. */
export function jobOf(config: MixinConfig, target: Target): string {
  return { lookup: config.lookupJob, migration: config.migrationJob, worker: config.workerJob, collector: config.collectorJob }[target];
}

/** The targets the configuration has (a worker and a collector may be left out, as ''). */
export function configuredTargets(config: MixinConfig): Target[] {
  return (['lookup', 'migration', 'worker', 'collector'] as const).filter((t) => jobOf(config, t) !== '');
}

/** A matcher as PromQL text. */
function matcherText(m: Matcher): string {
  return `${m.name}${m.op}${quote(m.value)}`;
}

/** The target's extra matchers, each as PromQL text (`namespace="bookings"`). */
export function matcherList(config: MixinConfig, target: Target): string[] {
  return parseMatchers(config.selectors[target]).map(matcherText);
}

/** The target's extra matchers as PromQL text (`namespace="bookings",env=~"live"`), '' for none. */
export function extraMatchers(config: MixinConfig, target: Target): string {
  return matcherList(config, target).join(',');
}

/** The matchers that select a target's series: `job="…"` and the target's extra ones. */
export function selectorOf(config: MixinConfig, target: Target): string {
  const extra = extraMatchers(config, target);
  return `job=${quote(jobOf(config, target))}${extra === '' ? '' : `,${extra}`}`;
}

/** `by (…)` / `on (…)` labels: the cluster label, then `labels` (job by default). Without a cluster label on the series, Prometheus groups as by the rest. */
export function grouping(config: MixinConfig, ...labels: string[]): string {
  return [config.clusterLabel, ...(labels.length === 0 ? ['job'] : labels)].join(', ');
}

/**
 * The labels a test series of `target` carries so that its selector takes it:
 * the job, each `=` matcher's value, and for `=~`, `!=` and `!~` a value the
 * matchers of that label accept (an alternative of the regex, the regex read
 * literally, or no label at all). Throws when it finds none.
 */
export function seriesLabels(config: MixinConfig, target: Target): Record<string, string> {
  const labels: Record<string, string> = { job: jobOf(config, target) };
  const byName = new Map<string, Matcher[]>();
  for (const m of parseMatchers(config.selectors[target])) byName.set(m.name, [...(byName.get(m.name) ?? []), m]);
  for (const [name, matchers] of byName) {
    const literal = matchers.flatMap((m) => (m.op === '=' ? [m.value] : m.op === '=~' ? [...m.value.split('|'), m.value] : []));
    const generated = matchers.flatMap((m) => (m.op === '=~' ? samplesOf(m.value) : []));
    const candidates = ['', ...literal, ...generated, ...FALLBACK_VALUES];
    const accepted = candidates.find((value) => matchers.every((m) => accepts(m, value)));
    if (accepted === undefined) throw new Error(`${name}: no value found that ${matchers.map(matcherText).join(' and ')} accept(s), for the rule tests' series`);
    if (accepted !== '') labels[name] = accepted;
  }
  return labels;
}

/** The labels `absent(selector)` gives its series: the job and the `=` matchers'. */
export function absentLabels(config: MixinConfig, target: Target): Record<string, string> {
  const labels: Record<string, string> = { job: jobOf(config, target) };
  for (const m of parseMatchers(config.selectors[target])) if (m.op === '=' && m.value !== '') labels[m.name] = m.value;
  return labels;
}

/** A label set as PromQL series text: `{job="x",namespace="y"}` without the braces. */
export function labelText(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([name, value]) => `${name}=${quote(value)}`)
    .join(',');
}

function accepts(m: Matcher, value: string): boolean {
  // Prometheus's regexes are RE2 and fully anchored: RE2JS's matches() is a whole-string match.
  const matches = m.op === '=~' || m.op === '!~' ? RE2JS.compile(m.value).matches(value) : m.value === value;
  return m.op === '=' || m.op === '=~' ? matches : !matches;
}

/** Values a test series may try when a regex has no literal alternative that matches. */
const FALLBACK_VALUES = ['x', 'a', '0', 'prod', 'default'];

/**
 * Strings a regex should match, generated from it (randexp), the same on every render:
 * its random choices come from a generator seeded by the regex. RE2's leading flags
 * (`(?i)`) are left out, which JavaScript cannot read; RE2 checks each candidate after.
 */
function samplesOf(regex: string): string[] {
  const pattern = regex.replace(/^\(\?[imsU]+\)/, '');
  let seed = [...pattern].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7);
  const next = (): number => (seed = (seed * 1_103_515_245 + 12_345) >>> 0);
  const samples: string[] = [];
  try {
    const generator = new RandExp(pattern);
    generator.max = 3;
    generator.randInt = (from: number, to: number) => from + (next() % (to - from + 1));
    for (let i = 0; i < 16; i += 1) samples.push(generator.gen());
  } catch {
    // Syntax JavaScript does not read (POSIX classes, \pL): the fallbacks are tried.
  }
  return samples;
}
