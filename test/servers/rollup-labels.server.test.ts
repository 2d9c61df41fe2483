import { serverTestDatabase } from '../support/test-databases.ts';
import { describeRollupLabels } from '../db/rollup-labels.suite.ts';

describeRollupLabels('PostgreSQL', serverTestDatabase);
