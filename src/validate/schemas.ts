/**
 * Every schema moefold validates with ajv, by group and name, from the builders the checking code itself calls:
 * what scripts/gen-validators.ts compiles at build time (and what the freshness test compares).
 */
import type { ValidatorGroup } from './compiled.js';
import { sectionSchema } from '../job/schema.js';
import { SEARCH_SPACE_SCHEMA } from '../enumerate/search-space.js';
import { buildOverlaySchema, buildSchema } from '../cost/calibration.js';

export function VALIDATED_SCHEMAS(): Record<ValidatorGroup, Record<string, object>> {
  return {
    job: { model: sectionSchema('model'), training: sectionSchema('training'), cluster: sectionSchema('cluster') },
    searchSpace: { space: SEARCH_SPACE_SCHEMA },
    calibration: { full: buildSchema(), overlay: buildOverlaySchema() },
  };
}
