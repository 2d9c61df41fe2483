// Writes prometheus/tests/uuid-lookup.test.yml from the literal cases in
// rule-tests.ts (part of `npm run generate:monitoring`).
import { writeFile } from 'node:fs/promises';
import { renderRuleTests } from './rule-tests.ts';

const target = new URL('../../prometheus/tests/uuid-lookup.test.yml', import.meta.url);
await writeFile(target, renderRuleTests());
process.stdout.write('wrote prometheus/tests/uuid-lookup.test.yml\n');
