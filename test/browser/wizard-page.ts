// A page that uses the built SDK the way the booking wizard does: it logs lookups
// and leaves them pending (a long flush interval), so only the page-hide flush
// can deliver them.
import { createClient } from '@supabase/supabase-js';
import { createSupabaseAnalyticsSink, createUuidLookupLogger, withKeepalive } from '../../src/core/index.ts';
import { installPageHideFlush } from '../../src/browser/index.ts';

const supabase = createClient(location.origin, 'test-anon-key', {
  auth: { persistSession: false, autoRefreshToken: false },
  global: { fetch: withKeepalive(fetch) },
});
const logger = createUuidLookupLogger({
  sink: createSupabaseAnalyticsSink({ client: supabase }),
  scheduledDelayMillis: 600_000,
  context: () => ({ sessionId: 'browser-session', region: 'eu-west' }),
});
installPageHideFlush({ logger });

logger.logSuccess('wall-painting', '3f0d4f7e-8a4b-4c55-9a51-1d2b6c7e8f90', 25, false);
logger.logSuccess('tiling', '6a1c2d3e-4f50-4617-8a9b-0c1d2e3f4a5b', 35, true);
logger.logFailure('unknown-service', 15, 'Service not found');

(window as unknown as { wizardFlush: () => Promise<void> }).wizardFlush = () => logger.flush();
(window as unknown as { wizardReady: unknown }).wizardReady = logger.getMetrics();
