// Browser-only helpers: the delta-temporality metrics preset and the page-hide flush.
export type { BrowserTelemetry, BrowserTelemetryOptions } from './browser-telemetry.ts';
export { createBrowserTelemetry } from './browser-telemetry.ts';
export type { PageHideFlushOptions } from './page-hide-flush.ts';
export { installPageHideFlush } from './page-hide-flush.ts';
