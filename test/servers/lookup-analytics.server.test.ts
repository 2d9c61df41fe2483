import { serverTestDatabase } from '../support/test-databases.ts';
import { describeLookupAnalytics } from '../db/lookup-analytics.suite.ts';

describeLookupAnalytics('PostgreSQL', serverTestDatabase);
