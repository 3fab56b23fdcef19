/**
 * ajv validators compiled at build time. Compiling a JSON Schema with ajv costs tens of milliseconds per schema
 * (hundreds for the calibration and job schemas together), on every run; `npm run build` instead writes ajv's
 * standalone code for every schema moefold checks into dist/generated/ (scripts/gen-validators.ts), built from the
 * same schema builders the code calls here. At run time a validator is taken from there when the schema it was
 * generated from is, text for text, the schema asked for now; otherwise (a schema changed and only tsc ran, or
 * no generated file) ajv compiles it as before. Either way the validator, and its errors, are the same.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Options, ValidateFunction } from 'ajv';

/** Each group: one ajv instance's options and one generated file. */
export const VALIDATOR_GROUPS = {
  /** The job file's model, training and cluster sections (job/schema.ts). */
  job: { allErrors: true, strict: true, allowUnionTypes: true },
  /** A search-space file (enumerate/search-space.ts). */
  searchSpace: { allErrors: false, strict: true },
  /** A calibration file and a calibration overlay (cost/calibration.ts). */
  calibration: { allErrors: false },
} as const satisfies Record<string, Options>;

export type ValidatorGroup = keyof typeof VALIDATOR_GROUPS;

/** dist/generated/validators-<group>.cjs (this file compiles to dist/src/validate/compiled.js). */
export function generatedFile(group: ValidatorGroup): string {
  return fileURLToPath(new URL(`../../generated/validators-${group}.cjs`, import.meta.url));
}

/** What a generated file exports: the validators by name, and the schema text each was generated from. */
export interface GeneratedValidators {
  schemas: Record<string, string>;
  options: string;
  validators: Record<string, ValidateFunction>;
}

const require = createRequire(import.meta.url);
const loaded = new Map<ValidatorGroup, GeneratedValidators | null>();

function generated(group: ValidatorGroup): GeneratedValidators | null {
  if (!loaded.has(group)) {
    const file = generatedFile(group);
    const mod = existsSync(file) ? require(file) as GeneratedValidators : null;
    loaded.set(group, mod !== null && mod.options === JSON.stringify(VALIDATOR_GROUPS[group]) ? mod : null);
  }
  return loaded.get(group) ?? null;
}

/**
 * The validator of `schema` (named `name` in its group): the build-time one when it was generated from this very
 * schema, else compiled now by ajv with the group's options. Callers keep what it returns (one call per process).
 */
export function compiledValidator(group: ValidatorGroup, name: string, schema: object): ValidateFunction {
  const gen = generated(group);
  if (gen !== null && gen.schemas[name] === JSON.stringify(schema) && typeof gen.validators[name] === 'function') {
    return gen.validators[name];
  }
  const { Ajv } = require('ajv') as typeof import('ajv');
  return new Ajv({ ...VALIDATOR_GROUPS[group] }).compile(schema);
}
