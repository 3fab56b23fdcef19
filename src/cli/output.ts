import yaml from 'js-yaml';

/** Prints a machine-readable result: JSON (2-space indent) or YAML. */
export function printStructured(obj: unknown, format: string): void {
  process.stdout.write(format === 'yaml' ? yaml.dump(obj, { lineWidth: -1, noRefs: true }) : `${JSON.stringify(obj, null, 2)}\n`);
}
