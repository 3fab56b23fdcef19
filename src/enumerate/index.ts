/** The enumerator's public API: every folded mapping Megatron-Core accepts, and why the rest were pruned. */
export type { Plan } from './plan.js';
export { newPlan, copyPlan, clonePlan, isUnevenSplit } from './plan.js';
export type { SearchSpace, IntDimension } from './search-space.js';
export { loadSearchSpace, applyFixes, searchSpaceFromDocument, SPACE_KEYS, RECOMPUTE_VALUES, DISPATCHER_VALUES } from './search-space.js';
export type { ResolvedSpace } from './resolve-space.js';
export { resolveSpace, unevenSplits, divisors } from './resolve-space.js';
export type { Rule, RuleViolation } from './rules.js';
export { RULES, checkPlan, ruleByName, splitKind, unevenSplitProblem } from './rules.js';
export type { EnumStats, EnumerateOptions } from './enumerate.js';
export { enumeratePlans, countPlans, newEnumStats, mergeEnumStats } from './enumerate.js';
export { explainEmpty } from './explain-empty.js';
export { parsePlanSpec } from './plan-spec.js';
export { DEFAULT_ORDER, TP_PP_DP_ORDER } from './rank-groups.js';
export type { Axis } from './rank-groups.js';
