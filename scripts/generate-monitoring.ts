// Writes the repository's monitoring files (Prometheus rules and their promtool
// tests, Grafana dashboards and provisioning) from the mixin in src/mixin/ with
// its default configuration: what `uuid-lookup mixin render` does for a user's.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderMonitoringFiles } from '../src/mixin/render-monitoring-files.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
for (const [file, content] of renderMonitoringFiles()) {
  const target = path.join(root, file);
  await mkdir(path.dirname(target), { recursive: true });
  await writeFile(target, content);
  process.stdout.write(`wrote ${file}\n`);
}
