import { existsSync } from 'node:fs';
import path from 'node:path';
import { goTools, toolsBin } from '../../scripts/tools.ts';

/**
 * The path of a server binary that `npm run tools` built from its pinned Go module
 * (the collector, prometheus, promtool, alertmanager, amtool, postgres_exporter), so the
 * stack tests run the versions docker-compose.yml ships, not whatever the machine has.
 */
export function toolBinary(name: string): string {
  if (!goTools.some((tool) => name in tool.binaries)) throw new Error(`no tool named ${name} in scripts/tools.ts`);
  const file = path.join(toolsBin, name);
  if (!existsSync(file)) throw new Error(`${name} is not built: run npm run tools (it builds the pinned servers into .tools/bin)`);
  return file;
}
