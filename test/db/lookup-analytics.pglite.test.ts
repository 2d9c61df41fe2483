import { pgliteTestDatabase } from '../support/test-databases.ts';
import { describeLookupAnalytics } from './lookup-analytics.suite.ts';

describeLookupAnalytics('PGlite', pgliteTestDatabase);
