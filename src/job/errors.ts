/**
 * Bad input: the CLI prints `message` as one line on stderr and exits with code 2.
 * The message names the file, the field and what is allowed, e.g.
 *   "fixtures/x.yaml: model.num_layers: must be an integer >= 1 (got -3)"
 */
export class InputError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

/** Builds the canonical one-line message: `<file>: <field>: <what is wrong / allowed>`. */
export function inputError(file: string, field: string, problem: string): InputError {
  const where = field ? `${file}: ${field}` : file;
  return new InputError(`${where}: ${problem}`);
}
