/** The analytic cost models: calibration loading and the plan scorer. */
export { loadCalibration, listCalibrations, calibrationFromDoc, CALIBRATION_FIELDS, type Calibration } from './calibration.js';
export {
  makeScoreContext, scorePlan, staticMemoryBytes, RECOMPUTE_MODULES,
  type ScoreContext, type ScoreOptions, type RoutingBalance,
} from './score.js';
export { newEstimate, copyEstimate, type Estimate, type TimeBreakdown, type MemoryBreakdown } from './estimate.js';
