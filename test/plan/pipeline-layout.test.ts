/**
 * Megatron's --pipeline-model-parallel-layout as src/plan/pipeline-layout.ts reads and writes it. Every expected
 * value here was worked out by hand from Megatron-LM HEAD's pipeline_parallel_layer_layout.py: parse_str_to_list
 * drops the commas, then replaces every `\(([^)]+)\)\*(\d+)` by its body repeated, then every `(.)\*(\d+)` by the
 * character repeated, then splits on `|`; validate_layer_layout checks the contents. The stages are Megatron's
 * global order: stage s is virtual stage s // PP of PP rank s % PP.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  LAYOUT_MAX_CHARS, LAYOUT_MAX_EXPANDED_CHARS, balancedLayoutStages, formatLayout, hasEmptyStage, layoutDecoderCounts,
  layoutOf, layoutStages, parseLayout, rankDecoderCount, type PipelineLayout,
} from '../../src/plan/pipeline-layout.js';

const rep = (s: string, n: number): string[] => new Array<string>(n).fill(s);

function parsed(text: string, L: number, mtp: number, pp: number): PipelineLayout {
  const lay = parseLayout(text, L, mtp, pp);
  assert.notEqual(typeof lay, 'string', `${text}: ${String(lay)}`);
  return lay as PipelineLayout;
}

test("Megatron's docstring example \"Ettt|(tt|)*29,m|L\" is [E,t,t,t] + [t,t]×29 + [m], [L]", () => {
  // commas dropped: "Ettt|(tt|)*29m|L"; the group pass gives "Ettt|" + "tt|"×29 + "m|L"
  assert.deepEqual(layoutStages('Ettt|(tt|)*29,m|L'), ['Ettt', ...rep('tt', 29), 'm', 'L']);
  // DeepSeek-V3 (61 layers, 1 MTP layer): 32 stages, so PP8 VPP4 or PP16 VPP2; m is stage 30, the last virtual stage
  // of PP rank 6 (PP8) or 14 (PP16)
  for (const [pp, rank] of [[8, 6], [16, 14]]) {
    const lay = parsed('Ettt|(tt|)*29,m|L', 61, 1, pp);
    assert.equal(lay.stages, 32);
    assert.equal(lay.mtp[30], 1);
    assert.equal(30 % pp, rank);
    assert.equal(Math.floor(30 / pp), 32 / pp - 1);
    assert.equal(lay.text, 'Et*3|(tt|)*29m|L'); // the compact form: commas gone, t runs of 3+ as t*n
  }
});

test("Megatron's expansion examples (its comments' xy/ab/cd/ef/pq, in the E/t/m/L alphabet)", () => {
  // "xy(ab|cd|ef)*2,pq" -> "xyab|cd|efab|cd|efpq": Et(tt|t|tt)*2,tL -> "Et" + "tt|t|tt"×2 + "tL"
  assert.deepEqual(layoutStages('Et(tt|t|tt)*2,tL'), ['Ettt', 't', 'tttt', 't', 'tttL']);
  // "(ab)*3" -> "ababab": one stage
  assert.deepEqual(layoutStages('(tm)*3'), ['tmtmtm']);
  // "ab,(cd|)*2" -> "abcd|cd|": the group's last | leaves an empty last stage
  assert.deepEqual(layoutStages('Et,(tt|)*2'), ['Ettt', 'tt', '']);
  // "(|ab)*2,cd" -> "|ab|abcd": an empty first stage
  assert.deepEqual(layoutStages('(|tt)*2,tL'), ['', 'tt', 'tttL']);
  // the letters themselves are not layer types: Megatron asserts on 'x'
  assert.match(layoutStages('xy(ab|cd|ef)*2,pq') as string, /^has the character 'x'; /);
});

test('expansion corner cases follow the two regular-expression passes exactly', () => {
  assert.deepEqual(layoutStages('Et*3|t*2L'), ['Ettt', 'ttL']);
  // groups first, then characters: "(t*2|)*2L" -> "t*2|t*2|L" -> "tt|tt|L"
  assert.deepEqual(layoutStages('(t*2|)*2L'), ['tt', 'tt', 'L']);
  // commas go before expanding, so "t,*2" is "t*2"
  assert.deepEqual(layoutStages('Et,*2|L'), ['Ett', 'L']);
  // x*n repeats any character, | included: "t|*2t" -> "t||t"
  assert.deepEqual(layoutStages('Et|*2tL'), ['Et', '', 'tL']);
  // x*0 drops it
  assert.deepEqual(layoutStages('Et*0L'), ['EL']);
  // a group's count is not a group: "(tt)*2*2" -> "tttt*2" -> "ttt" + "tt"
  assert.deepEqual(layoutStages('(tt)*2*2'), ['ttttt']);
  // groups do not nest: "((t)*2)*2" -> group pass matches "((t)*2" (body "(t") -> "(t(t)*2" -> char pass ")*2" -> "))"
  assert.match(layoutStages('((t)*2)*2') as string, /^has the character '\('/);
  // no repeat at all: a bare ( or * is a character Megatron refuses
  assert.match(layoutStages('E(t|L') as string, /^has the character '\('/);
  assert.match(layoutStages('E*t|L') as string, /^has the character '\*'/);
  // characters outside printable ASCII are named by code point
  assert.match(layoutStages('Et\u00e9L') as string, /^has the character U\+00E9; /);
  assert.equal(layoutStages('t'.repeat(LAYOUT_MAX_CHARS + 1)), `is longer than ${LAYOUT_MAX_CHARS} characters`);
  assert.equal(layoutStages('E(t)*99999999999L'), `expands to more than ${LAYOUT_MAX_EXPANDED_CHARS} characters`);
  assert.equal(layoutStages('Et*100001L'), `expands to more than ${LAYOUT_MAX_EXPANDED_CHARS} characters`);
});

test("validate_layer_layout's refusals, each with its message (in Megatron's order)", () => {
  const cases: [text: string, L: number, mtp: number, pp: number, message: string][] = [
    ['Et|t|tL', 3, 0, 2, 'has 3 stages, not a multiple of PP 2'],
    ['', 0, 0, 1, 'must start with the embedding E'],
    ['tE|tL', 2, 0, 2, 'must start with the embedding E'],
    ['Et|Lt', 2, 0, 2, 'must end with the loss L'],
    ['Et|EtL', 2, 0, 2, 'must hold exactly one embedding E'],
    ['EtL|tL', 2, 0, 2, 'must hold exactly one loss L'],
    ['Et|tL', 3, 0, 2, 'holds 2 decoder layers t, not num_layers 3'],
    ['Et|tmL', 2, 2, 2, 'holds 1 MTP layers m, not mtp_num_layers 2'],
    ['Et|mL', 1, 0, 2, 'holds 1 MTP layers m, not mtp_num_layers 0'],
    ['Em|tL', 1, 1, 2, 'places a decoder layer t after an MTP layer m'],
    // PP2 VPP2: stage 1 is virtual stage 0 of PP rank 1, not that rank's last
    ['Ett|m||L', 2, 1, 2, "places MTP in virtual stage 0 of PP rank 1; it must be in the rank's last virtual stage"],
    // stage 0 is rank 0's first virtual stage (Megatron also says "MTP should not be in the first pp rank")
    ['Ettm|||L', 2, 1, 2, "places MTP in virtual stage 0 of PP rank 0; it must be in the rank's last virtual stage"],
    // both MTP layers in last virtual stages, but of two ranks
    ['Et|t|m|mL', 2, 2, 2, 'splits the MTP layers over more than one stage'],
  ];
  for (const [text, L, mtp, pp, message] of cases) {
    assert.equal(parseLayout(text, L, mtp, pp), message, `${text} (L ${L}, mtp ${mtp}, PP ${pp})`);
  }
  assert.match(parseLayout('Etx|L', 1, 0, 2) as string, /^has the character 'x'/);
});

test('layouts Megatron accepts: empty stages, MTP in the last virtual stage of any rank (rank 0 too), VPP from the stage count', () => {
  // PP2 VPP2: stage 2 is rank 0's last virtual stage (Megatron's mtp_standalone case)
  const standalone = parsed('Et|tt|m|L', 3, 1, 2);
  assert.deepEqual([...standalone.mtp], [0, 0, 1, 0]);
  const empty = parsed('Et||tL', 2, 0, 3);
  assert.equal(hasEmptyStage(empty), true);
  assert.equal(hasEmptyStage(parsed('Et|tL', 2, 0, 2)), false);
  // E alone and L alone are not empty stages
  assert.equal(hasEmptyStage(parsed('E|tt|L', 2, 0, 3)), false);
  const lay = parsed('Et|(tt|)*30mL', 61, 1, 8);
  assert.equal(lay.stages, 32);
  assert.deepEqual([...lay.decoders], [1, ...new Array<number>(30).fill(2), 0]);
  assert.deepEqual([...lay.decoderStart].slice(0, 4), [0, 1, 3, 5]);
  assert.equal(lay.decoderStart[31], 61);
  assert.deepEqual([lay.embedding[0], lay.loss[31], lay.mtp[31]], [1, 1, 1]);
  // PP rank 0 holds stages 0, 8, 16, 24: 1 + 2 + 2 + 2; rank 7 stages 7, 15, 23, 31: 2 + 2 + 2 + 0
  assert.equal(rankDecoderCount(lay, 8, 0), 7);
  assert.equal(rankDecoderCount(lay, 8, 7), 6);
  assert.deepEqual(layoutDecoderCounts('Et|(tt|)*30mL'), [1, ...new Array<number>(30).fill(2), 0]);
  assert.equal(layoutDecoderCounts('Ex|L'), null);
});

test('balancedLayoutStages(61, 1, 8, 4) is NVIDIA\'s DeepSeek-V3 recipe "Et|(tt|)*30mL"', () => {
  // 61 + E + L + 1 MTP = 64 slots over 32 stages: 2 each; first E t, last m L, the 30 between t t
  const st = balancedLayoutStages(61, 1, 8, 4);
  assert.deepEqual(st, ['Et', ...rep('tt', 30), 'mL']);
  assert.equal(formatLayout(st!), 'Et|(tt|)*30mL');
  assert.deepEqual(layoutStages('Et|(tt|)*30mL'), st);
});

test('balancedLayoutStages: slots differ by at most one, E first, MTP and L last, every layer placed; null where impossible', () => {
  let made = 0;
  for (let L = 1; L <= 40; L++) {
    for (const mtp of [0, 1, 2]) {
      for (const pp of [1, 2, 3, 4, 8]) {
        for (let vpp = 1; vpp <= 6; vpp++) {
          const S = pp * vpp;
          const st = balancedLayoutStages(L, mtp, pp, vpp);
          const T = L + 2 + mtp;
          if (S < 2 || T < S || Math.floor(T / S) - 1 < mtp) {
            // one stage; fewer slots than stages; or the last stage (q or q slots: it never gets an extra) cannot
            // hold the MTP layers and L
            assert.equal(st, null, `${L}/${mtp} on ${pp}x${vpp}`);
            continue;
          }
          assert.ok(st, `${L}/${mtp} on ${pp}x${vpp}`);
          made++;
          assert.equal(st.length, S);
          const slots = st.map((s) => s.length);
          assert.ok(Math.max(...slots) - Math.min(...slots) <= 1, `${L}/${mtp} on ${pp}x${vpp}: ${st.join('|')}`);
          assert.equal(slots.reduce((a, b) => a + b, 0), T);
          assert.match(st[0], /^Et*$/);
          assert.match(st[S - 1], new RegExp(`^t*${'m'.repeat(mtp)}L$`));
          for (const s of st.slice(1, -1)) assert.match(s, /^t+$/);
          assert.equal(typeof parseLayout(formatLayout(st), L, mtp, pp), 'object', `${L}/${mtp} on ${pp}x${vpp}`);
        }
      }
    }
  }
  assert.ok(made > 1000, `${made}`);
});

test('formatLayout round-trips: Megatron reads the written text back into the same stages', () => {
  // generated layouts for many (L, mtp, PP, VPP), including the zoo's sizes
  let n = 0;
  for (const L of [1, 2, 3, 5, 8, 16, 27, 32, 48, 56, 61, 80, 94, 126]) {
    for (const mtp of [0, 1, 2, 3]) {
      for (const pp of [1, 2, 3, 4, 6, 8, 16]) {
        for (const vpp of [1, 2, 3, 4, 5, 7, 8]) {
          const st = balancedLayoutStages(L, mtp, pp, vpp);
          if (st === null) continue;
          const text = formatLayout(st);
          assert.deepEqual(layoutStages(text), st, text);
          const lay = parsed(text, L, mtp, pp);
          assert.equal(lay.stages, pp * vpp);
          assert.equal(lay.text, text);
          assert.equal([...lay.decoders].reduce((a, b) => a + b, 0), L);
          n++;
        }
      }
    }
  }
  assert.ok(n > 1000, `${n}`);
  // hand-made stages: empty stages (first, middle, last, in runs), the last stage equal to a run, runs of one
  const shapes: string[][] = [
    [''], ['EtL'], ['', ''], ['E', '', '', 'tL'], ['', 'Et', 'L'], ['Et', 'tL', ''], ['Et', '', '', '', ''],
    ['tt', 'tt', 'tt'], ['Et', 'tt', 'tt', 'tt'], ['Ettt', 'ttt', 'ttt', 'tmL'], ['Et', 't', 'tt', 't', 'tt', 'L'],
    ['E', 't', 't', 'tt', 'tt', 'mm', 'L'], ['m', 'm', 'm'], ['Etttttttttt', 'ttttttttttttttttttttttttttttttttttL'],
  ];
  for (const st of shapes) assert.deepEqual(layoutStages(formatLayout(st)), st, `${JSON.stringify(st)} -> ${formatLayout(st)}`);
  // random stages over E/t/m/L with repeats (a fixed-seed LCG)
  let seed = 12345;
  const rnd = (k: number) => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return (seed >>> 8) % k; };
  const pool = ['', 't', 'tt', 'ttt', 'tttt', 'E', 'Et', 'tL', 'm', 'tm', 'mL', 'ttttttt', 'tEt', 'Lt'];
  for (let i = 0; i < 2000; i++) {
    const st: string[] = [];
    const len = 1 + rnd(12);
    while (st.length < len) {
      const s = pool[rnd(pool.length)];
      const times = rnd(3) === 0 ? 1 + rnd(5) : 1;
      for (let k = 0; k < times && st.length < len; k++) st.push(s);
    }
    assert.deepEqual(layoutStages(formatLayout(st)), st, `${JSON.stringify(st)} -> ${formatLayout(st)}`);
  }
});

test('layoutOf caches per (num_layers, mtp, PP, text) and answers as parseLayout does', () => {
  const a = layoutOf('Et|(tt|)*30mL', 61, 1, 8);
  assert.equal(layoutOf('Et|(tt|)*30mL', 61, 1, 8), a);
  assert.deepEqual(a, parseLayout('Et|(tt|)*30mL', 61, 1, 8));
  assert.equal(layoutOf('Et|(tt|)*30mL', 60, 1, 8), 'holds 61 decoder layers t, not num_layers 60');
  assert.equal(layoutOf('Et|(tt|)*30mL', 61, 1, 5), 'has 32 stages, not a multiple of PP 5');
  for (let i = 0; i < 600; i++) layoutOf(`Et*${i}L`, i, 0, 1); // more than the cache holds
  assert.deepEqual(layoutOf('Et|(tt|)*30mL', 61, 1, 8), a);
});
