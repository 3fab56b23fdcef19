import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InputError } from '../../src/job/errors.js';
import { applyFixes, loadSearchSpace } from '../../src/enumerate/search-space.js';
import type { SearchSpace } from '../../src/enumerate/search-space.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'moefold-space-'));
let n = 0;
function spaceFile(text: string): string {
  const f = path.join(tmp, `space-${n++}.yaml`);
  fs.writeFileSync(f, text);
  return f;
}
const GOOD = `tp: {auto: true, max: 8}
cp: [1, 2]
pp: auto
vpp: 1
uneven_stages: {enabled: false, max_first_last_reduction: 0}
ep: [8, 1, 8]
etp: auto
micro_batch_size: [2, 1]
recompute: selective
dispatcher: [flex, alltoall]
distributed_optimizer: auto
`;

function expectInputError(fn: () => unknown, message: string) {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof InputError, `not an InputError: ${String(err)}`);
    assert.equal(err.message, message);
    return true;
  });
}

test('the default space loads and matches its documented contents', () => {
  const s = loadSearchSpace();
  assert.match(s.source, /search-spaces[/\\]default\.yaml$/);
  assert.deepEqual(s.tp, { kind: 'auto', max: 8 });
  assert.deepEqual(s.cp, { kind: 'auto', max: 8 });
  assert.deepEqual(s.pp, { kind: 'auto', max: null });
  assert.deepEqual(s.vpp, { kind: 'auto', max: 8 });
  assert.deepEqual(s.ep, { kind: 'auto', max: null });
  assert.deepEqual(s.etp, { kind: 'auto', max: 8 });
  assert.deepEqual(s.microBatchSize, { kind: 'list', values: [1, 2, 4] });
  assert.deepEqual(s.uneven, { enabled: true, maxFirstLastReduction: 4 });
  assert.deepEqual(s.recompute, ['none', 'selective', 'full']);
  assert.deepEqual(s.dispatcher, ['alltoall', 'allgather', 'flex']);
  assert.deepEqual(s.distributedOptimizer, [true, false]);
  // the keys added with accounted splits and layouts: absent from default.yaml, so their defaults (all on)
  assert.equal(s.accountedSplits, true);
  assert.equal(s.layouts, true);
  assert.deepEqual(s.sequenceParallel, [true, false]);
  assert.deepEqual(structuredClone(s), s); // plain data: can be posted to workers
});

test('every value form parses; lists are sorted and deduplicated, enums put in canonical order', () => {
  const f = spaceFile(GOOD);
  const s = loadSearchSpace(f);
  assert.equal(s.source, f);
  assert.deepEqual(s.cp, { kind: 'list', values: [1, 2] });
  assert.deepEqual(s.vpp, { kind: 'list', values: [1] });
  assert.deepEqual(s.ep, { kind: 'list', values: [1, 8] });
  assert.deepEqual(s.microBatchSize, { kind: 'list', values: [1, 2] });
  assert.deepEqual(s.uneven, { enabled: false, maxFirstLastReduction: 0 });
  assert.deepEqual(s.recompute, ['selective']);
  assert.deepEqual(s.dispatcher, ['alltoall', 'flex']);
  assert.deepEqual(s.distributedOptimizer, [true, false]);
  // optional keys left out: their defaults
  assert.deepEqual([s.accountedSplits, s.layouts, s.sequenceParallel], [true, true, [true, false]]);
  const t = loadSearchSpace(spaceFile(`${GOOD}accounted_splits: false\nlayouts: false\nsequence_parallel: [false, true, false]\n`));
  assert.deepEqual([t.accountedSplits, t.layouts, t.sequenceParallel], [false, false, [true, false]]);
  assert.deepEqual(loadSearchSpace(spaceFile(`${GOOD}sequence_parallel: false\n`)).sequenceParallel, [false]);
  assert.deepEqual(loadSearchSpace(spaceFile(`${GOOD}sequence_parallel: auto\n`)).sequenceParallel, [true, false]);
});

test('bad search-space files give one-line errors naming the file and the dimension', () => {
  const unknown = spaceFile(`${GOOD}pipeline: 4\n`);
  // the allowed list names the optional keys too (accounted_splits, layouts, sequence_parallel), in file order
  expectInputError(() => loadSearchSpace(unknown), `${unknown}: pipeline: unknown dimension (allowed: tp, cp, pp, vpp, `
    + 'uneven_stages, accounted_splits, layouts, ep, etp, micro_batch_size, sequence_parallel, recompute, dispatcher, '
    + 'distributed_optimizer)');
  const zero = spaceFile(GOOD.replace('cp: [1, 2]', 'cp: [0, 2]'));
  expectInputError(() => loadSearchSpace(zero), `${zero}: cp: must be an integer >= 1, a list of integers >= 1, "auto", `
    + 'or {auto: true, max: N} with N >= 1 (got [0,2])');
  const word = spaceFile(GOOD.replace('pp: auto', 'pp: all'));
  expectInputError(() => loadSearchSpace(word), `${word}: pp: must be an integer >= 1, a list of integers >= 1, "auto", `
    + 'or {auto: true, max: N} with N >= 1 (got "all")');
  const rec = spaceFile(GOOD.replace('recompute: selective', 'recompute: [none, partial]'));
  expectInputError(() => loadSearchSpace(rec), `${rec}: recompute: must be "auto" or a non-empty list of none, selective, full (got ["none","partial"])`);
  const uneven = spaceFile(GOOD.replace('max_first_last_reduction: 0', 'max_first_last_reduction: -1'));
  expectInputError(() => loadSearchSpace(uneven), `${uneven}: uneven_stages: must be {enabled: true|false, max_first_last_reduction: integer >= 0} `
    + '(got {"enabled":false,"max_first_last_reduction":-1})');
  const missing = spaceFile(GOOD.replace('dispatcher: [flex, alltoall]\n', ''));
  // the required keys, then the optional ones (files written before they existed still load)
  expectInputError(() => loadSearchSpace(missing), `${missing}: dispatcher: missing: every dimension must be given (tp, cp, pp, vpp, `
    + 'uneven_stages, ep, etp, micro_batch_size, recompute, dispatcher, distributed_optimizer; optional: accounted_splits, '
    + 'layouts, sequence_parallel)');
  const list = spaceFile('- 1\n- 2\n');
  expectInputError(() => loadSearchSpace(list), `${list}: must be a mapping of dimension -> values (dimensions: tp, cp, pp, vpp, `
    + 'uneven_stages, accounted_splits, layouts, ep, etp, micro_batch_size, sequence_parallel, recompute, dispatcher, '
    + 'distributed_optimizer)');
  const acc = spaceFile(`${GOOD}accounted_splits: yes please\n`);
  expectInputError(() => loadSearchSpace(acc), `${acc}: accounted_splits: must be true or false (got "yes please")`);
  const lay = spaceFile(`${GOOD}layouts: [true]\n`);
  expectInputError(() => loadSearchSpace(lay), `${lay}: layouts: must be true or false (got [true])`);
  const sp = spaceFile(`${GOOD}sequence_parallel: []\n`);
  expectInputError(() => loadSearchSpace(sp), `${sp}: sequence_parallel: must be "auto", true, false, or a non-empty list of true/false (got [])`);
  const yamlBad = spaceFile('tp: [1, 2\n');
  assert.throws(() => loadSearchSpace(yamlBad), (e: unknown) => e instanceof InputError && e.message.startsWith(`${yamlBad}: not valid YAML: `)
    && !e.message.includes('\n'));
  const absent = path.join(tmp, 'absent.yaml');
  expectInputError(() => loadSearchSpace(absent), `${absent}: cannot read the search-space file (ENOENT)`);
});

test('applyFixes narrows dimensions, accepts aliases, leaves the input alone', () => {
  const base = loadSearchSpace();
  const before = structuredClone(base);
  const s = applyFixes(base, 'tp=2, ep=8,recompute=selective,dispatcher=alltoall,mbs=1,vpp=7,distopt=off,uneven=3');
  assert.deepEqual(base, before);
  assert.deepEqual(s.tp, { kind: 'list', values: [2] });
  assert.deepEqual(s.ep, { kind: 'list', values: [8] });
  assert.deepEqual(s.vpp, { kind: 'list', values: [7] });
  assert.deepEqual(s.microBatchSize, { kind: 'list', values: [1] });
  assert.deepEqual(s.recompute, ['selective']);
  assert.deepEqual(s.dispatcher, ['alltoall']);
  assert.deepEqual(s.distributedOptimizer, [false]);
  assert.deepEqual(s.uneven, { enabled: true, maxFirstLastReduction: 3 });
  assert.deepEqual(s.cp, base.cp);
  const t: SearchSpace = applyFixes(base, 'micro_batch_size=4/1,tp=auto,recompute=full/none,distributed_optimizer=true,uneven=off,dispatcher=auto');
  assert.deepEqual(t.microBatchSize, { kind: 'list', values: [1, 4] });
  assert.deepEqual(t.tp, { kind: 'auto', max: null });
  assert.deepEqual(t.recompute, ['none', 'full']);
  assert.deepEqual(t.distributedOptimizer, [true]);
  assert.equal(t.uneven.enabled, false);
  assert.deepEqual(t.dispatcher, ['alltoall', 'allgather', 'flex']);
  // the keys of accounted splits, layouts and sequence parallel
  const u = applyFixes(base, 'account=off,layouts=off,sp=off');
  assert.deepEqual([u.accountedSplits, u.layouts, u.sequenceParallel], [false, false, [false]]);
  const v = applyFixes(u, 'accounted_splits=on,layout=yes,sequence_parallel=true/false');
  assert.deepEqual([v.accountedSplits, v.layouts, v.sequenceParallel], [true, true, [true, false]]);
  assert.deepEqual(applyFixes(u, 'sp=auto').sequenceParallel, [true, false]);
  assert.deepEqual(applyFixes(base, 'sp=on').sequenceParallel, [true]);
});

test('applyFixes rejects bad keys and values naming --fix', () => {
  const base = loadSearchSpace();
  const keys = 'tp, cp, pp, vpp, ep, etp, mbs (micro_batch_size), sp (sequence_parallel), recompute, dispatcher, '
    + 'distopt (distributed_optimizer), uneven, account (accounted_splits), layouts';
  expectInputError(() => applyFixes(base, 'tp=2,foo=3'), `--fix: foo: unknown dimension (allowed: ${keys})`);
  expectInputError(() => applyFixes(base, 'tp=0'), `--fix: tp: must be an integer >= 1, several joined by '/', or auto (got "0")`);
  expectInputError(() => applyFixes(base, 'mbs=two'), `--fix: mbs: must be an integer >= 1, several joined by '/', or auto (got "two")`);
  expectInputError(() => applyFixes(base, 'recompute=partial'), `--fix: recompute: must be one of none, selective, full, several joined by '/', or auto (got "partial")`);
  expectInputError(() => applyFixes(base, 'dispatcher=deepep'), `--fix: dispatcher: must be one of alltoall, allgather, flex, several joined by '/', or auto (got "deepep")`);
  expectInputError(() => applyFixes(base, 'distopt=maybe'), '--fix: distopt: must be true or false (on/off), or auto (got "maybe")');
  expectInputError(() => applyFixes(base, 'uneven=some'), '--fix: uneven: must be on, off, or the largest first/last stage reduction N >= 0 (got "some")');
  expectInputError(() => applyFixes(base, 'account=maybe'), '--fix: account: must be on or off (got "maybe")');
  expectInputError(() => applyFixes(base, 'layouts=2'), '--fix: layouts: must be on or off (got "2")');
  expectInputError(() => applyFixes(base, 'sp=on/sometimes'), `--fix: sp: must be true or false (on/off), several joined by '/', or auto (got "on/sometimes")`);
  expectInputError(() => applyFixes(base, 'layout=on,layouts=off'), '--fix: layouts: given more than once');
  expectInputError(() => applyFixes(base, 'tp=2,tp=4'), '--fix: tp: given more than once');
  expectInputError(() => applyFixes(base, 'mbs=1,micro_batch_size=2'), '--fix: micro_batch_size: given more than once');
  expectInputError(() => applyFixes(base, 'tp2'), `--fix: tp2: expected key=value (keys: ${keys})`);
  expectInputError(() => applyFixes(base, ' , '), `--fix: expected key=value pairs separated by commas (keys: ${keys})`);
  expectInputError(() => applyFixes(base, 'tp=x', 'space.fix'), `space.fix: tp: must be an integer >= 1, several joined by '/', or auto (got "x")`);
});
