import { describe, expect, it } from 'vitest';
import vm from 'node:vm';
import { build } from 'esbuild';

// The isomorphic core must run where there is no `process` (a browser): bundle it
// for the browser and run it in a context that has only what browsers have.
describe('the core without process', () => {
  it('imports, logs lookups, batches to a sink, and reports metrics', async () => {
    const bundle = await build({
      entryPoints: [new URL('../../src/core/index.ts', import.meta.url).pathname],
      bundle: true,
      write: false,
      format: 'iife',
      globalName: 'sdk',
      platform: 'browser',
    });
    const code = bundle.outputFiles[0]?.text ?? '';
    const context = vm.createContext({
      console,
      crypto: globalThis.crypto,
      performance: globalThis.performance,
      setTimeout,
      clearTimeout,
      TextEncoder,
      Date,
    });
    expect(vm.runInContext('typeof process', context)).toBe('undefined');
    vm.runInContext(code, context);
    const result = await vm.runInContext(
      `(async () => {
        const sink = sdk.createMemorySink();
        const logger = sdk.createUuidLookupLogger({ sink });
        logger.logSuccess('wall-painting', '3f0d4f7e-8a4b-4c55-9a51-1d2b6c7e8f90', 25, false);
        logger.logFailure('unknown-service', 15, 'Service not found');
        sdk.uuidLookupLogger.logSuccess('tiling', '6a1c2d3e-4f50-4617-8a9b-0c1d2e3f4a5b', 5);
        await logger.flush();
        return { metrics: logger.getMetrics(), rows: sink.rows.length, singleton: sdk.uuidLookupLogger.getMetrics().totalLookups };
      })()`,
      context,
    );
    expect(result).toEqual({
      metrics: { totalLookups: 2, successfulLookups: 1, failedLookups: 1, averageLookupTime: 20, fallbackRate: 0 },
      rows: 2,
      singleton: 1,
    });
  });
});
