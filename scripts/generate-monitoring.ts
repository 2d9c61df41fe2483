// Writes the generated monitoring files (Prometheus rules, Grafana dashboards
// and alert rules) from the one source in src/mixin/. The promtool tests of the
// rules are test data, written by test/promtool/write-rule-tests.ts.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderMonitoringFiles } from '../src/mixin/render-monitoring-files.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const files = renderMonitoringFiles();
for (const [file, content] of files) {
  const target = path.join(root, file);
  await mkdir(path.dirname(target), { recursive: true });
  await writeFile(target, content);
  process.stdout.write(`wrote ${file}\n`);
}
