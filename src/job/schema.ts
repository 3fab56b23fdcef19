/**
 * JSON Schemas for the three sections of a job file (built from the tables in fields.ts) and the mapping of
 * ajv's errors to moefold's one-line messages. Only types, ranges, allowed values, required and unknown fields
 * are checked here; rules that tie fields together live in resolve-model.ts and resolve-run.ts.
 */
import type { ErrorObject, ValidateFunction } from 'ajv';
import { compiledValidator } from '../validate/compiled.js';
import { inputError, type InputError } from './errors.js';
import {
  CLUSTER_FIELDS,
  MODEL_FIELDS,
  MODEL_REQUIRED,
  NAME_PATTERN,
  TRAINING_FIELDS,
  allowedText,
  gotText,
  keyText,
  numberAllowed,
  numberProblem,
  type FieldRule,
} from './fields.js';
import { closestName } from './suggest.js';

export type Section = 'model' | 'training' | 'cluster';

const SECTION_FIELDS: Readonly<Record<Section, Readonly<Record<string, FieldRule>>>> = {
  model: MODEL_FIELDS,
  training: TRAINING_FIELDS,
  cluster: CLUSTER_FIELDS,
};

function ruleSchema(rule: FieldRule): Record<string, unknown> {
  switch (rule.kind) {
    case 'int':
      return { type: 'integer', minimum: rule.min, maximum: rule.max };
    case 'number':
      return { type: 'number', minimum: rule.min, maximum: rule.max };
    case 'bool':
      return { type: 'boolean' };
    case 'enum':
      return { type: 'string', enum: [...rule.values] };
    case 'text':
      return { type: 'string', minLength: 1, pattern: '^[^\\r\\n]+$' };
    case 'name':
      return { type: 'string', pattern: NAME_PATTERN };
    case 'calibration':
      return { type: 'string', minLength: 1, maxLength: 4096, pattern: '^[^\\r\\n\\u0000]+$' };
    case 'pathList':
      return { type: 'array', items: { type: 'string', minLength: 1, maxLength: 4096, pattern: '^[^\\r\\n\\u0000]+$' }, maxItems: 64 };
    case 'enumList':
      return { type: 'array', items: { type: 'string', enum: [...rule.values] }, uniqueItems: true, maxItems: rule.values.length };
    case 'ropeScaling':
    case 'baseWeights':
      return { type: 'object' };
    case 'layerFreq':
      // An int, a 0/1 list or a Megatron list expression; the content is checked in layer-freq.ts.
      return { type: ['integer', 'array', 'string'] };
  }
}

/** The JSON Schema of one section (also what the build compiles ahead: validate/schemas.ts). */
export function sectionSchema(section: Section): Record<string, unknown> {
  const fields = SECTION_FIELDS[section];
  const properties: Record<string, unknown> = {};
  for (const [name, rule] of Object.entries(fields)) properties[name] = ruleSchema(rule);
  return {
    type: 'object',
    properties,
    required: section === 'model' ? [...MODEL_REQUIRED] : [],
    additionalProperties: false,
  };
}

let validators: Record<Section, ValidateFunction> | undefined;

function getValidators(): Record<Section, ValidateFunction> {
  validators ??= {
    model: compiledValidator('job', 'model', sectionSchema('model')),
    training: compiledValidator('job', 'training', sectionSchema('training')),
    cluster: compiledValidator('job', 'cluster', sectionSchema('cluster')),
  };
  return validators;
}

export interface SectionContext {
  /** The file named in messages. */
  file: string;
  /** How a field is named in messages, e.g. `num_layers` → `model.num_layers`. */
  label: (field: string) => string;
  /** Extra words for an unknown field (e.g. "it belongs under training:"); undefined for the default text. */
  unknownHint?: (field: string) => string | undefined;
}

/** Ranks ajv's errors: an unknown field explains a "missing" one (a typo), and bad values come before absences. */
function rank(e: ErrorObject): number {
  if (e.keyword === 'additionalProperties') return 0;
  if (e.keyword === 'required') return 2;
  return 1;
}

function fieldOf(e: ErrorObject): string {
  const parts = e.instancePath.split('/').filter((p) => p !== '');
  return (parts[0] ?? '').replace(/~1/g, '/').replace(/~0/g, '~');
}

function toInputError(section: Section, e: ErrorObject, data: Record<string, unknown>, ctx: SectionContext): InputError {
  const fields = SECTION_FIELDS[section];
  if (e.keyword === 'additionalProperties') {
    const key = String((e.params as { additionalProperty: string }).additionalProperty);
    const shown = keyText(key);
    const hint = ctx.unknownHint?.(key);
    if (hint !== undefined) return inputError(ctx.file, ctx.label(shown), `unknown field (${hint})`);
    const near = key.length <= 64 ? closestName(key, Object.keys(fields)) : undefined;
    if (near !== undefined) return inputError(ctx.file, ctx.label(shown), `unknown field (did you mean ${near}?)`);
    const known =
      section === 'model'
        ? 'model fields are Megatron-LM argument names such as num_layers, hidden_size, num_experts'
        : `allowed: ${Object.keys(fields).join(', ')}`;
    return inputError(ctx.file, ctx.label(shown), `unknown field (${known})`);
  }
  if (e.keyword === 'required') {
    const key = String((e.params as { missingProperty: string }).missingProperty);
    return inputError(ctx.file, ctx.label(key), `missing (required; must be ${allowedText(fields[key])})`);
  }
  const key = fieldOf(e);
  const rule = fields[key];
  if (rule.kind === 'int' || rule.kind === 'number') return inputError(ctx.file, ctx.label(key), numberProblem(rule, data[key]));
  return inputError(ctx.file, ctx.label(key), `must be ${allowedText(rule)} (got ${gotText(data[key])})`);
}

/**
 * Checks one section (a mapping already known to be an object) against its schema; throws the first error as
 * a one-line InputError.
 */
export function checkSection(section: Section, data: Record<string, unknown>, ctx: SectionContext): void {
  const validate = getValidators()[section];
  if (validate(data)) {
    // JSON Schema cannot tell -0 from 0; a written -0 is refused like any other value out of range.
    for (const [key, rule] of Object.entries(SECTION_FIELDS[section])) {
      if ((rule.kind === 'int' || rule.kind === 'number') && key in data && !numberAllowed(rule, data[key])) {
        throw inputError(ctx.file, ctx.label(key), numberProblem(rule, data[key]));
      }
    }
    return;
  }
  const errors = [...(validate.errors ?? [])].sort((a, b) => rank(a) - rank(b));
  const first = errors[0];
  if (first === undefined) throw inputError(ctx.file, ctx.label(''), 'is not valid');
  throw toInputError(section, first, data, ctx);
}
