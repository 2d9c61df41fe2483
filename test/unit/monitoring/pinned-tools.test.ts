import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { goTools, pinnedVersion } from '../../../scripts/tools.ts';

// The servers under test are built from Go modules (npm run tools); docker-compose.yml
// runs images. One version of each everywhere: these tests hold them equal.
const root = new URL('../../../', import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, root), 'utf8');
const tool = (module: string) => {
  const found = goTools.find((t) => t.module === module);
  if (found === undefined) throw new Error(`no tool ${module}`);
  return found;
};
const compose = parse(read('docker-compose.yml')) as { services: Record<string, { image?: string }> };
const imageTag = (service: string): string => compose.services[service]?.image?.split(':').pop() ?? '';

type Manifest = Record<string, { gomod: string }[]> & { dist: { version: string; module: string; output_path: string } };
const manifest = parse(read('otel-collector/builder-config.yaml')) as Manifest;
const componentKinds = ['receivers', 'processors', 'exporters', 'extensions', 'connectors'] as const;

describe('pinned servers: compose and the binaries under test', () => {
  it('Prometheus: the image prom/prometheus:vX.Y.Z is the module v0.X0Y.Z that npm run tools builds', () => {
    const [major, minor, patch] = imageTag('prometheus').replace(/^v/, '').split('.').map(Number);
    expect(major).toBe(3);
    expect(pinnedVersion(tool('prometheus'))).toBe(`v0.${(major ?? 0) * 100 + (minor ?? 0)}.${patch}`);
  });

  it('Alertmanager and postgres_exporter: the same version in the image and in tools/', () => {
    expect(imageTag('alertmanager')).toBe(pinnedVersion(tool('alertmanager')));
    expect(imageTag('postgres-exporter')).toBe(pinnedVersion(tool('postgres_exporter')));
  });

  it('the collector: the contrib image, the ocb manifest and the generated module are one release', () => {
    const release = manifest.dist.version;
    expect(compose.services['otel-collector']?.image).toBe(`otel/opentelemetry-collector-contrib:${release}`);
    expect(pinnedVersion(tool('otelcol'))).toBe(`v${release}`);
    for (const kind of componentKinds) {
      for (const { gomod } of manifest[kind] ?? []) expect(gomod, gomod).toMatch(new RegExp(`\\sv(${release.replace(/\./g, '\\.')}|1\\.\\d+\\.\\d+)$`));
    }
  });
});

describe('otel-collector/builder-config.yaml', () => {
  const config = parse(read('otel-collector/config.yaml')) as Record<string, Record<string, unknown> | undefined>;
  // A component's type is its module's last element without the kind: otlpreceiver -> otlp.
  const types = (kind: (typeof componentKinds)[number]): string[] =>
    (manifest[kind] ?? []).map(({ gomod }) => (gomod.split(' ')[0]?.split('/').pop() ?? '').replace(new RegExp(`${kind.slice(0, -1)}$`), '')).sort();
  const used = (kind: (typeof componentKinds)[number]): string[] =>
    [...new Set(Object.keys(config[kind] ?? {}).map((id) => (id.split('/')[0] ?? '').replace(/_/g, '')))].sort();

  it('holds exactly the components otel-collector/config.yaml uses', () => {
    for (const kind of componentKinds) expect(types(kind), kind).toEqual(used(kind));
  });

  it('is what tools/otelcol was generated from (npm run tools -- --generate after a change)', () => {
    const components = read('tools/otelcol/components.go');
    const goMod = read('tools/otelcol/go.mod');
    expect(goMod).toContain(`module ${manifest.dist.module}\n`);
    for (const kind of componentKinds) {
      for (const { gomod } of manifest[kind] ?? []) {
        const [module, version] = gomod.split(' ');
        expect(components, module).toContain(`"${module}"`);
        expect(goMod, gomod).toContain(`\t${module} ${version}\n`);
      }
    }
    // Every component the generated main imports (aliased by its module's last element) is in the manifest.
    const imported = [...components.matchAll(/^\s+\w+(?:receiver|processor|exporter|extension|connector) "([^"]+)"$/gm)].map((m) => m[1]);
    const listed = componentKinds.flatMap((kind) => (manifest[kind] ?? []).map(({ gomod }) => gomod.split(' ')[0]));
    expect(imported.sort()).toEqual(listed.sort());
  });
});
