/**
 * Issue 9: a model name must never become shell commands (or TOML, Hydra, YAML/JSON structure).
 * (a) Names with control characters are refused when the job is read, with a one-line message naming the file and
 *     the field (`model.name`, `name`, `_name_or_path`); a default taken from the file name is sanitised instead.
 * (b) Printable but hostile names ($(...), backticks, quotes, #, backslashes, unicode) go through every export
 *     format: the scripts pass `bash -n` (and shellcheck, where installed) and, run by bash in a sandbox, create
 *     no PWNED file; the TOML parses to the same name; Bridge overrides stay one per line and unchanged; JSON/YAML
 *     parse back to the same name.
 * Models come from fixtures/ (copied into a temp dir with their name changed) or from the helpers in jobs.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import * as TOML from 'smol-toml';
import { EXPORT_FORMATS, exportFileName, exportPlan, type ExportFormat } from '../../src/export/index.js';
import { comment, shellWord } from '../../src/export/shell.js';
import { hydraValue } from '../../src/export/bridge-overrides.js';
import { tomlString } from '../../src/export/torchtitan-toml.js';
import { REPO_ROOT } from '../../src/paths.js';
import { InputError } from '../../src/job/errors.js';
import { jobFromObject, loadJob } from '../../src/job/load-job.js';
import type { Job } from '../../src/job/types.js';
import { moefold } from '../cli/run-cli.js';
import { mixtralJob, mixtralPlan, shapeOf } from './jobs.js';
import { launcherSandbox } from './sandbox.js';

const HAS_BASH = spawnSync('bash', ['--version']).status === 0;
const NO_BASH = !HAS_BASH && 'bash not installed';
const HAS_SHELLCHECK = spawnSync('shellcheck', ['--version']).status === 0;

/** 128 H100, seq 4096, GBS 256: the job of mixtralPlan() (jobs.ts). */
const YAML_FIXTURE = path.join(REPO_ROOT, 'fixtures/models/mixtral-8x22b.yaml');
const HF_FIXTURE = path.join(REPO_ROOT, 'fixtures/hf/Mixtral-8x22B/config.json');
const HF_OVERRIDES = { gpus: 128, globalBatchSize: 256 };
const ALL_TUNE_FORMATS = EXPORT_FORMATS.join(',');

const made: string[] = [];
process.on('exit', () => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});
function tmpDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'moefold-hostile-'));
  made.push(d);
  return d;
}

/** `s` as a YAML double-quoted scalar (JSON's escapes, plus \u escapes for what YAML may not hold raw). */
function yamlQuoted(s: string): string {
  return JSON.stringify(s).replace(/[\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The Mixtral-8x22B fixture copied to dir/fileName, its `name:` replaced by `name` (or removed: undefined). */
function jobFileWithName(dir: string, name: string | undefined, fileName = 'job.yaml'): string {
  const text = fs.readFileSync(YAML_FIXTURE, 'utf8');
  assert.match(text, /^ {2}name: .*$/m);
  const out = text.replace(/^ {2}name: .*\n/m, name === undefined ? '' : `  name: ${yamlQuoted(name)}\n`);
  const file = path.join(dir, fileName);
  fs.writeFileSync(file, out);
  return file;
}

/** The flat form of the same job (model fields at top level), for the `name` label. */
function flatJobFileWithName(dir: string, name: string): string {
  const doc = yaml.load(fs.readFileSync(YAML_FIXTURE, 'utf8')) as { model: Record<string, unknown>; training: unknown; cluster: unknown };
  const file = path.join(dir, 'flat.json');
  fs.writeFileSync(file, JSON.stringify({ ...doc.model, name, training: doc.training, cluster: doc.cluster }));
  return file;
}

/** The Mixtral-8x22B HF config copied to dir/dirName/config.json with `_name_or_path` set (or removed). */
function hfConfigWithName(dir: string, nameOrPath: string | undefined, dirName = 'Mixtral'): string {
  const cfg = JSON.parse(fs.readFileSync(HF_FIXTURE, 'utf8')) as Record<string, unknown>;
  delete cfg._name_or_path;
  if (nameOrPath !== undefined) cfg._name_or_path = nameOrPath;
  fs.mkdirSync(path.join(dir, dirName));
  const file = path.join(dir, dirName, 'config.json');
  fs.writeFileSync(file, JSON.stringify(cfg, null, 2));
  return file;
}

function loadError(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof InputError, `expected an InputError, got ${String(e)}`);
    assert.equal(e.exitCode, 2);
    assert.doesNotMatch(e.message, /[\r\n\u0000\u2028\u2029]/, 'the message is one line');
    return e.message;
  }
  assert.fail('expected the name to be refused');
}

const ALLOWED = 'must be one line of at most 200 printable characters (no line break, tab, NUL or other control character)';

/** Names with control characters, and how the message shows them. */
const CONTROL_NAMES: readonly [name: string, shown: string][] = [
  ['x\ntouch PWNED\n#', String.raw`"x\ntouch PWNED\n#"`],
  ['a\rtouch PWNED', String.raw`"a\rtouch PWNED"`],
  ['nul\u0000x', String.raw`"nul\u0000x"`],
  ['tab\there', String.raw`"tab\there"`],
  ['esc\u001b[31mred', String.raw`"esc\u001b[31mred"`],
  ['del\u007f', String.raw`"del\u007f"`],
  ['nel\u0085x', String.raw`"nel\u0085x"`],
  ['line\u2028sep', String.raw`"line\u2028sep"`],
  ['lone\ud800', String.raw`"lone\ud800"`],
];

/** Printable names that are hostile to one target or another; all are valid model names. */
const HOSTILE_NAMES: readonly string[] = [
  '$(touch PWNED)',
  '`touch PWNED`',
  "x'; touch PWNED; echo '",
  'x"; touch PWNED; echo "',
  'back\\slash\\',
  '# not a comment',
  '${IFS}$(touch${IFS}PWNED) \\',
  '"""\'\'\' = "x" [job] #',
  'key=value ${oc.env:HOME} [1,2] {a:1}',
  '名前-ü-🚀 Ω',
  ' leading and trailing ',
  '--num-layers 1; touch PWNED',
];

// ---------------------------------------------------------------------------------------------------------------
// The comment helper, and the value encoders (defence in depth: they hold for any text, validated or not)

test('hostile names: comment() never emits a line break or a control character', () => {
  const input = ['a\nb', 'c\r\nd', 'e\u2028f\u2029g', 'nul\u0000 del\u007f nel\u0085 esc\u001b tab\t', 'lone\udc00', '', 'plain'];
  const out = comment(input);
  assert.equal(out.length, input.length);
  for (const l of out) {
    assert.match(l, /^#( |$)/);
    assert.doesNotMatch(l, /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/, JSON.stringify(l));
    assert.doesNotMatch(l, /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/, JSON.stringify(l));
  }
  assert.equal(out.join('\n').split(/\r\n|\r|\n/).length, input.length);
  assert.deepEqual(out.slice(-2), ['#', '# plain']);
  assert.equal(out[0], String.raw`# a\nb`);
});

test('hostile names: shellWord gives one bash word, on one line, for any text', { skip: NO_BASH }, () => {
  const words = [...HOSTILE_NAMES, 'a\nb', 'c\r', 'tab\t', 'esc\u001b', 'del\u007f', "it's", '', '-', '!x', 'ü'];
  const line = words.map(shellWord).join(' ');
  assert.doesNotMatch(line, /[\r\n]/);
  const dir = tmpDir();
  const r = spawnSync('bash', ['-c', `set -- ${line}; printf '%s\\0' "$@"`], { cwd: dir, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.stdout.split('\0').slice(0, -1), words);
  assert.equal(fs.existsSync(path.join(dir, 'PWNED')), false);
  assert.throws(() => shellWord('a\u0000b'), /NUL/);
});

/** A Hydra override value, read as Hydra's grammar (hydra/grammar/OverrideLexer.g4) reads it. */
function parseHydra(text: string): unknown {
  if (text.startsWith('"') || text.startsWith("'")) {
    const q = text[0];
    // QUOTED_VALUE ends at the first quote preceded by an even number of backslashes
    let i = 1;
    for (; i < text.length; i++) {
      if (text[i] !== q) continue;
      let n = 0;
      while (text[i - 1 - n] === '\\') n++;
      if (n % 2 === 0) break;
    }
    assert.equal(i, text.length - 1, `one quoted value: ${text}`);
    // hydra/core/override_parser/overrides_visitor.py _unescape_quoted_string
    let rest = text.slice(1);
    const pattern = q === '"' ? /(\\)+"/ : /(\\)+'/;
    const tokens: string[] = [];
    let m = pattern.exec(rest);
    if (m === null) return rest.slice(0, -1);
    while (m !== null) {
      const start = m.index;
      const stop = start + m[0].length;
      tokens.push(rest.slice(0, start));
      let esc = '';
      for (let k = start + 1; k < stop; k += 2) esc += rest[k];
      tokens.push(esc);
      rest = rest.slice(stop);
      m = pattern.exec(rest);
    }
    if (rest.length > 1) tokens.push(rest.slice(0, -1));
    return tokens.join('');
  }
  if (text.startsWith('[') && text.endsWith(']')) return text === '[]' ? [] : text.slice(1, -1).split(',').map(parseHydra);
  if (/^null$/i.test(text)) return null;
  if (/^(true|false)$/i.test(text)) return text.toLowerCase() === 'true';
  if (/^[+-]?(0|[1-9](_?\d)*)$/.test(text)) return Number(text.replace(/_/g, ''));
  // FLOAT: POINT_FLOAT or EXPONENT_FLOAT (OverrideLexer.g4)
  if (/^[+-]?((\d(_?\d)*)?\.\d(_?\d)*|\d(_?\d)*\.?)([eE][+-]?\d(_?\d)*)?$/.test(text) && /[.eE]/.test(text)) {
    return Number(text.replace(/_/g, ''));
  }
  assert.match(text, /^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*)*$/, `an unquoted Hydra value: ${text}`);
  assert.doesNotMatch(text, /^(nan|inf)$/i);
  return text;
}

test('hostile names: hydraValue quotes any one-line text so that Hydra reads it back', () => {
  const refuse = (why: string): never => {
    throw new InputError(why);
  };
  const texts = [...HOSTILE_NAMES.filter((s) => !s.includes('${')), 'a\\"b', '\\', '\\\\"', "'", 'true', 'NULL', 'inf', 'nan',
    '1', 'selective', 'expandable_segments:True', 'x,y', 'a=b', '[1]', 'a b'];
  for (const s of texts) {
    const v = hydraValue(s, refuse);
    assert.doesNotMatch(v, /[\r\n]/);
    assert.equal(parseHydra(v), s, `${s} → ${v}`);
  }
  assert.deepEqual(parseHydra(hydraValue(['core_attn', 'moe_act'], refuse)), ['core_attn', 'moe_act']);
  // an OmegaConf interpolation would be resolved later, and a line break would split the override
  assert.throws(() => hydraValue('${oc.env:HOME}', refuse), /interpolation/);
  assert.throws(() => hydraValue('a\nb', refuse), /control character/);
  assert.throws(() => hydraValue('a\u0000b', refuse), /control character/);
  assert.throws(() => hydraValue('lone\udc00', refuse), /lone surrogate/);
});

test('hostile names: tomlString writes a TOML basic string that parses back to the text', () => {
  const refuse = (why: string): never => {
    throw new InputError(why);
  };
  const texts = [...HOSTILE_NAMES, ...CONTROL_NAMES.map(([n]) => n).filter((n) => !n.includes('\ud800')), '\b\f\v', '\\u0041', ''];
  for (const s of texts) {
    const v = tomlString(s, refuse);
    assert.doesNotMatch(v, /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/, `${JSON.stringify(s)} → ${v}`);
    assert.equal(TOML.parse(`x = ${v}\n`).x, s, `${JSON.stringify(s)} → ${v}`);
  }
  assert.throws(() => tomlString('lone\ud800', refuse), /surrogate/);
});

// ---------------------------------------------------------------------------------------------------------------
// (a) refused at load

test('hostile names: a `name:` with control characters is refused, naming the file and model.name', () => {
  const dir = tmpDir();
  for (const [name, shown] of CONTROL_NAMES) {
    const file = jobFileWithName(dir, name);
    assert.equal(loadError(() => loadJob(file)), `${file}: model.name: ${ALLOWED} (got ${shown})`);
  }
});

test('hostile names: the flat form names the field `name`; a job object is checked the same way', () => {
  const dir = tmpDir();
  const flat = flatJobFileWithName(dir, 'x\ntouch PWNED\n#');
  assert.equal(loadError(() => loadJob(flat)), `${flat}: name: ${ALLOWED} (got "x\\ntouch PWNED\\n#")`);
  // a plans file's embedded job is read with jobFromObject
  const doc = yaml.load(fs.readFileSync(YAML_FIXTURE, 'utf8')) as { model: Record<string, unknown> };
  doc.model.name = 'nul\u0000x';
  assert.equal(loadError(() => jobFromObject(doc, 'plans.json')), `plans.json: model.name: ${ALLOWED} (got "nul\\u0000x")`);
});

test('hostile names: a name is at most 200 characters; the message shows a short excerpt', () => {
  const dir = tmpDir();
  const ok = jobFileWithName(dir, 'm'.repeat(199) + '🚀'); // 200 characters (the rocket is one, in two UTF-16 units)
  assert.equal(loadJob(ok).model.name, 'm'.repeat(199) + '🚀');
  const long = jobFileWithName(dir, 'a'.repeat(201));
  assert.equal(loadError(() => loadJob(long)), `${long}: model.name: ${ALLOWED} (got 201 characters: "${'a'.repeat(40)}"…)`);
  const longBad = jobFileWithName(dir, `${'b'.repeat(50)}\n`);
  assert.equal(loadError(() => loadJob(longBad)), `${longBad}: model.name: ${ALLOWED} (got "${'b'.repeat(40)}"…)`);
});

test('hostile names: an HF `_name_or_path` with control characters is refused, naming _name_or_path', () => {
  const dir = tmpDir();
  let n = 0;
  for (const [name, shown] of CONTROL_NAMES) {
    const file = hfConfigWithName(dir, `org/${name}`, `hf-${n++}`);
    assert.equal(loadError(() => loadJob(file, HF_OVERRIDES)), `${file}: _name_or_path: ${ALLOWED} (got "org/${shown.slice(1)})`);
  }
  // the issue's example, read through the directory
  const file = hfConfigWithName(dir, 'org/x\ntouch PWNED\n#', 'issue-9');
  assert.equal(loadError(() => loadJob(path.dirname(file), HF_OVERRIDES)),
    `${file}: _name_or_path: ${ALLOWED} (got "org/x\\ntouch PWNED\\n#")`);
  // a line break before the last / is refused too: the value is not one line
  const early = hfConfigWithName(dir, 'org\n/x', 'early');
  assert.equal(loadError(() => loadJob(early, HF_OVERRIDES)), `${early}: _name_or_path: ${ALLOWED} (got "org\\n/x")`);
  const long = hfConfigWithName(dir, `/models/${'c'.repeat(201)}`, 'long');
  assert.equal(loadError(() => loadJob(long, HF_OVERRIDES)),
    `${long}: _name_or_path: ${ALLOWED} (got 201 characters after the last /: "${'c'.repeat(40)}"…)`);
  // a long path whose last part is short is fine
  const deep = hfConfigWithName(dir, `/${'d'.repeat(300)}/Mixtral-8x22B`, 'deep');
  assert.equal(loadJob(deep, HF_OVERRIDES).model.name, 'Mixtral-8x22B');
});

test('hostile names: a default taken from the file name is sanitised (control characters become _)', () => {
  const dir = tmpDir();
  const file = jobFileWithName(dir, undefined, 'x\ntouch PWNED\n#.yaml');
  assert.equal(loadJob(file).model.name, 'x_touch PWNED_#');
  const hf = hfConfigWithName(dir, undefined, 'a\rb\u001bc');
  assert.equal(loadJob(hf, HF_OVERRIDES).model.name, 'a_b_c');
  const long = jobFileWithName(dir, undefined, `${'e'.repeat(240)}.yaml`);
  assert.equal(loadJob(long).model.name, 'e'.repeat(200));
  // printable names from the file name are kept as they are (the exports quote them)
  const odd = jobFileWithName(dir, undefined, '$(touch PWNED) v2.yaml');
  assert.equal(loadJob(odd).model.name, '$(touch PWNED) v2');
  // `_name_or_path: "/"` names nothing: the directory's name is used
  const slash = hfConfigWithName(dir, '/', 'Slash-Model');
  assert.equal(loadJob(slash, HF_OVERRIDES).model.name, 'Slash-Model');
});

// ---------------------------------------------------------------------------------------------------------------
// (b) valid but hostile names through every export format

/** The launcher sandbox with the environment every generated script needs to run through. */
function sandbox(): { dir: string; env: Record<string, string> } {
  const { dir, bin, megatron } = launcherSandbox();
  made.push(dir);
  const env = {
    PATH: `${bin}:${process.env.PATH ?? ''}`, HOME: dir, CAPTURE_DIR: dir,
    MEGATRON_LM_DIR: megatron, DATA_PATH: 'mock', TOKENIZER_TYPE: 'NullTokenizer', CHECKPOINT_DIR: 'none',
    SLURM_JOB_NUM_NODES: '16', SLURM_JOB_NODELIST: 'gpu-node-[001-016]', SLURM_CPUS_ON_NODE: '8',
  };
  return { dir, env };
}

/** Checks one shell export: bash -n (and shellcheck where installed), then bash runs it (sources the fragment) in a sandbox; nothing is created. */
function checkScript(format: ExportFormat, text: string, what: string): void {
  const sb = sandbox();
  const file = path.join(sb.dir, `plan.${format}`);
  fs.writeFileSync(file, text, { mode: 0o755 });
  const syntax = spawnSync('bash', ['-n', file], { encoding: 'utf8' });
  assert.equal(syntax.status, 0, `${what}: bash -n: ${syntax.stderr}`);
  if (HAS_SHELLCHECK) {
    const lint = spawnSync('shellcheck', [file], { encoding: 'utf8' });
    assert.equal(lint.status, 0, `${what}: shellcheck:\n${lint.stdout}${lint.stderr}`);
  }
  const r = format === 'megatron'
    ? spawnSync('bash', ['-c', 'source "$1" && printf "%s\\n" "${MEGATRON_ARGS[@]}" > "$CAPTURE_DIR/torchrun.args"', 'x', file], { cwd: sb.dir, encoding: 'utf8', env: sb.env })
    : spawnSync('bash', [file], { cwd: sb.dir, encoding: 'utf8', env: sb.env });
  assert.equal(r.status, 0, `${what}: ${r.stderr}`);
  assert.equal(r.stderr, '', `${what}: no command ran that failed`);
  assert.ok(fs.existsSync(path.join(sb.dir, 'torchrun.args')), `${what}: ran to the end`);
  // Only what the sandbox's stand-in launchers record (torchrun.args/.env, srun.args) may appear beside the script.
  const recorded = new Set(['torchrun.args', 'torchrun.env', 'srun.args']);
  assert.deepEqual(fs.readdirSync(sb.dir).filter((f) => !recorded.has(f)).sort(), ['Megatron-LM', 'bin', path.basename(file)].sort(), `${what}: created nothing`);
}

/** Every export of `job` against the same job named plainly: the same lines, only the name lines differ. */
function checkAllFormats(job: Job, what: string): void {
  const plain: Job = { ...job, model: { ...job.model, name: 'PLAIN' } };
  const plan = mixtralPlan();
  for (const format of EXPORT_FORMATS) {
    // a format that refuses the plainly named model (megatron-bridge has no Mixtral recipe, torchtitan v0.2.2 no Mixtral model) refuses this one too
    try {
      exportPlan(format, plain, shapeOf(plain), plan);
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      assert.throws(() => exportPlan(format, job, shapeOf(job), plan), (x: unknown) => x instanceof InputError && !/[\r\n]/.test(x.message.slice(job.source.length)));
      continue;
    }
    const text = exportPlan(format, job, shapeOf(job), plan);
    const base = exportPlan(format, plain, shapeOf(plain), plan).split('\n');
    const lines = text.split('\n');
    const where = `${what} ${format}`;
    if (HAS_BASH && (format === 'megatron' || format === 'torchrun' || format === 'slurm')) checkScript(format, text, where);
    assert.equal(lines.length, base.length, `${where}: no line was added`);
    assert.doesNotMatch(text, /\r|\u0000|\u2028|\u2029/, `${where}: no stray line breaks or NUL`);
    lines.forEach((l, i) => {
      if (l !== base[i]) assert.match(base[i], /PLAIN/, `${where}: only the lines with the name differ (line ${i + 1}: ${l})`);
    });
    if (format === 'megatron-bridge') {
      for (const [i, l] of lines.entries()) {
        if (l === '' || l.startsWith('#')) continue;
        assert.equal(l, base[i], `${where}: the overrides do not depend on the name`);
        const eq = l.indexOf('=');
        assert.match(l.slice(0, eq), /^(\+\+)?[a-z_]+(\.[A-Za-z_]+)*$/);
        parseHydra(l.slice(eq + 1));
      }
    }
  }
}

test('hostile names: printable hostile `name:` values are safe in every export format', () => {
  const dir = tmpDir();
  for (const name of HOSTILE_NAMES) {
    const file = jobFileWithName(dir, name);
    const job = loadJob(file);
    assert.equal(job.model.name, name);
    checkAllFormats(job, JSON.stringify(name));
    const header = exportPlan('megatron', job, shapeOf(job), mixtralPlan()).split('\n')[1];
    assert.equal(header, `# moefold plan 1 for ${name} on 128 x h100-sxm (16 nodes x 8 GPUs)`);
  }
});

test('hostile names: hostile HF `_name_or_path` and file-name defaults are safe in every export format', () => {
  const dir = tmpDir();
  const hf = loadJob(hfConfigWithName(dir, 'org/$(touch PWNED)`touch PWNED`', 'hf'), HF_OVERRIDES);
  assert.equal(hf.model.name, '$(touch PWNED)`touch PWNED`');
  checkAllFormats(hf, 'HF');
  const fromFile = loadJob(jobFileWithName(dir, undefined, "x\ntouch PWNED\n#'$(touch PWNED).yaml"));
  assert.equal(fromFile.model.name, "x_touch PWNED_#'$(touch PWNED)");
  checkAllFormats(fromFile, 'file name');
});

test('hostile names: a name that bypassed the loader cannot break a comment either (defence in depth)', () => {
  for (const [name] of CONTROL_NAMES) {
    if (name.includes('\ud800')) continue; // TOML cannot hold it: refused, checked below
    const job = mixtralJob();
    job.model.name = name;
    checkAllFormats({ ...job, model: { ...job.model } }, JSON.stringify(name));
  }
  const job = mixtralJob();
  job.model.name = 'lone\ud800';
  assert.throws(() => exportPlan('torchtitan', job, shapeOf(job), mixtralPlan()), (e: unknown) =>
    e instanceof InputError && /^fixtures\/models\/mixtral-8x22b\.yaml: export: torchtitan cannot express .*surrogate/.test(e.message));
});

test('hostile names: the CLI writes JSON, YAML and every launch format that keep the name as it is', { skip: NO_BASH }, () => {
  const dir = tmpDir();
  const fix = '--fix=tp=2,pp=8,vpp=7,ep=8,etp=1,mbs=1,recompute=none,dispatcher=alltoall';
  const names = ["$(touch PWNED)`touch PWNED`'\"; touch PWNED; # \\", '${oc.env:HOME} 名前 \\'];
  names.forEach((name, n) => {
    const sub = fs.mkdtempSync(path.join(dir, 'cli-'));
    const file = jobFileWithName(sub, name);
    const out = path.join(sub, 'out');
    const tuned = moefold('tune', file, fix, '--top', '1', '--format', 'yaml', '--quiet', '--no-timing', '--out', out, '--export', ALL_TUNE_FORMATS);
    assert.equal(tuned.status, 0, tuned.stderr);
    assert.equal((yaml.load(tuned.stdout) as { model: { name: string } }).model.name, name);
    const plansFile = path.join(out, 'plans.json');
    assert.equal((JSON.parse(fs.readFileSync(plansFile, 'utf8')) as { model: { name: string } }).model.name, name);
    for (const f of ['json', 'yaml']) {
      const r = moefold('export', plansFile, '--format', f);
      assert.equal(r.status, 0, r.stderr);
      const doc = (f === 'json' ? JSON.parse(r.stdout) : yaml.load(r.stdout)) as { rank: number };
      assert.equal(doc.rank, 1);
    }
    for (const format of EXPORT_FORMATS) {
      // megatron-bridge has no Mixtral recipe, torchtitan v0.2.2 no Mixtral model: tune writes a one-line refusal instead
      if (format === 'megatron-bridge' || format === 'torchtitan') {
        const refusal = fs.readFileSync(path.join(out, `${exportFileName(format, 1)}.refused.txt`), 'utf8');
        assert.equal(refusal.trimEnd().split('\n').length, 1, `CLI ${format} ${name}`);
        continue;
      }
      const written = fs.readFileSync(path.join(out, exportFileName(format, 1)), 'utf8');
      if (format === 'megatron' || format === 'torchrun' || format === 'slurm') checkScript(format, written, `CLI ${format} ${name}`);
      if (n > 0) continue;
      // what tune wrote is what export writes from plans.json (the name survives the round trip and its checks)
      const r = moefold('export', plansFile, '--format', format);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, written, `${format}: ${name}`);
    }
  });
  assert.equal(fs.existsSync(path.join(REPO_ROOT, 'PWNED')), false);
});

test('hostile names: the CLI refuses a control-character name with one line and exit 2', () => {
  const dir = tmpDir();
  const file = hfConfigWithName(dir, 'org/x\ntouch PWNED\n#', 'issue-9');
  const r = moefold('tune', file, '--gpus', '16', '--quiet');
  assert.equal(r.status, 2);
  assert.equal(r.stderr, `${file}: _name_or_path: ${ALLOWED} (got "org/x\\ntouch PWNED\\n#")\n`);
});
