import { pgliteTestDatabase } from '../support/test-databases.ts';
import { describeRollupLabels } from './rollup-labels.suite.ts';

describeRollupLabels('PGlite', pgliteTestDatabase);
