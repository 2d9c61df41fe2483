// The isomorphic SDK (browser and Node): imports @opentelemetry/api only.
export type { Severity, Threshold, ThresholdState } from './thresholds.ts';
export { thresholds, thresholdState } from './thresholds.ts';
