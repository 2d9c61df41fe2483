import type { UuidLookupLogger } from '../core/uuid-lookup-logger.ts';

/** What {@link installPageHideFlush} flushes. */
export interface PageHideFlushOptions {
  logger: Pick<UuidLookupLogger, 'flushOnPageHide'>;
  /** Metrics to export too (the OTel metrics SDK does not flush on page hide itself). */
  telemetry?: { forceFlush(): Promise<void> };
  /** Defaults to the global window and document. */
  target?: { window: Pick<Window, 'addEventListener' | 'removeEventListener'>; document: Pick<Document, 'addEventListener' | 'removeEventListener' | 'visibilityState'> };
}

/**
 * Flushes pending analytics and metrics when the page is hidden or going away:
 * `visibilitychange` to hidden (the last event reliably delivered on mobile) and
 * `pagehide`; never `unload`, which breaks the back/forward cache and is not
 * fired on mobile. Returns a function that removes the listeners.
 *
 * @example
 * ```ts
 * const uninstall = installPageHideFlush({ logger: uuidLookupLogger, telemetry });
 * ```
 */
export function installPageHideFlush(options: PageHideFlushOptions): () => void {
  const target = options.target ?? { window, document };
  const flush = (): void => {
    options.logger.flushOnPageHide();
    void options.telemetry?.forceFlush().catch(() => {});
  };
  const onVisibility = (): void => {
    if (target.document.visibilityState === 'hidden') flush();
  };
  target.document.addEventListener('visibilitychange', onVisibility);
  target.window.addEventListener('pagehide', flush);
  return () => {
    target.document.removeEventListener('visibilitychange', onVisibility);
    target.window.removeEventListener('pagehide', flush);
  };
}
