/**
 * Rack-scale NVLink (issue 15): the cluster's nvlink_domain, the gb200-nvl72 calibration and the fixture cluster
 * fixtures/clusters/gb200-nvl72-256.yaml (trays of 4 GPUs, NVLink domains of 64).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { REPO_ROOT } from '../src/paths.js';
import { loadJobContext } from '../src/job-context.js';
import type { JobOverrides } from '../src/job/resolve-run.js';
import { nvlinkDomainOf } from '../src/job/types.js';
import { parsePlanSpec } from '../src/enumerate/plan-spec.js';
import { checkPlan } from '../src/enumerate/rules.js';
import { plan as gridPlan } from './cost/fixtures.js';
import { scorePlan } from '../src/cost/score.js';
import { newEstimate, type Estimate } from '../src/cost/estimate.js';
import { groupTopology, membersPerNode, newGroupTopology, nodesSpanned } from '../src/cost/topology.js';
import { loadCalibration } from '../src/cost/calibration.js';
import { calibrationNames } from '../src/paths.js';
import { segmentNodes, slurmScript } from '../src/export/launch-scripts.js';
import { attentionGroups, expertGroups } from './enumerate/oracles.js';
import { moefold } from './cli/run-cli.js';

const DSV3 = 'fixtures/models/deepseek-v3.yaml';
const GB200_CLUSTER = 'fixtures/clusters/gb200-nvl72-256.yaml';

/** The fixture cluster's fields as command-line overrides (the model file brings no cluster of its own). */
function clusterOverrides(file: string): JobOverrides {
  const c = yaml.load(fs.readFileSync(path.join(REPO_ROOT, file), 'utf8')) as Record<string, unknown>;
  const o: JobOverrides = { gpu: c.gpu as string, gpus: c.gpus as number, gpusPerNode: c.gpus_per_node as number };
  if (c.nvlink_domain !== undefined) o.nvlinkDomain = c.nvlink_domain as number;
  return o;
}

function scoreOn(model: string, overrides: JobOverrides, spec: string): { est: Estimate; epNodes: number; epPerNode: number } {
  const ctx = loadJobContext(path.join(REPO_ROOT, model), overrides, { warn: false });
  const plan = parsePlanSpec(spec, ctx.job, ctx.shape);
  const problems = checkPlan(ctx.job, ctx.shape, plan);
  assert.deepEqual(problems, [], `${spec}: ${problems.map((v) => v.reason).join('; ')}`);
  const sc = ctx.scoreContext();
  const est = scorePlan(sc, plan, newEstimate());
  const t = groupTopology(plan, sc.nvlinkDomainGpus, newGroupTopology());
  return { est: { ...est, time: { ...est.time } }, epNodes: t.epNodes, epPerNode: t.epPerNode };
}

test('membersPerNode / nodesSpanned: NVLink domains of 72 and 64 against trays of 4 (hand-computed)', () => {
  // EP64 contiguous (stride 1): one 64-GPU domain; two 72-GPU domains (ranks 64..127 cross a rack); 16 trays
  assert.equal(membersPerNode(1, 64, 64), 64); assert.equal(nodesSpanned(1, 64, 64), 1);
  assert.equal(membersPerNode(1, 64, 72), 64); assert.equal(nodesSpanned(1, 64, 72), 2);
  assert.equal(membersPerNode(1, 64, 4), 4); assert.equal(nodesSpanned(1, 64, 4), 16);
  // EP8 at stride 9 (ETP9-like) fills a 72 domain exactly: 8 members, one domain
  assert.equal(membersPerNode(9, 8, 72), 8); assert.equal(nodesSpanned(9, 8, 72), 1);
  // EP16 at stride 4 (ETP4): 16 members in a 64 domain, one per tray of 4
  assert.equal(membersPerNode(4, 16, 64), 16); assert.equal(nodesSpanned(4, 16, 64), 1);
  assert.equal(membersPerNode(4, 16, 4), 1); assert.equal(nodesSpanned(4, 16, 4), 16);
  // EP72 contiguous: exactly one 72 domain, two 64 domains
  assert.equal(nodesSpanned(1, 72, 72), 1); assert.equal(nodesSpanned(1, 72, 64), 2);
  // DP4 at stride 64: one member per 64 domain (4 domains), one per 72 domain as well
  assert.equal(membersPerNode(64, 4, 64), 1); assert.equal(nodesSpanned(64, 4, 64), 4);
  assert.equal(membersPerNode(64, 4, 72), 1); assert.equal(nodesSpanned(64, 4, 72), 4);
});

// Domains spanned by the worst group, counted on the rank generator's own group lists.
function worstDomains(groups: number[][], g: number): number {
  return Math.max(...groups.map((gr) => new Set(gr.map((r) => Math.floor(r / g))).size));
}

test('rank placement: groupTopology on 64- and 72-GPU domains agrees with Megatron\'s rank groups', () => {
  const cases: Array<[number, number, number[][]]> = [
    [256, 64, [[1, 1, 4, 64, 1], [2, 1, 4, 32, 1], [4, 2, 2, 16, 2], [1, 1, 16, 16, 1], [8, 1, 2, 8, 8]]],
    [288, 72, [[2, 1, 4, 8, 1], [1, 1, 4, 72, 1], [4, 1, 2, 4, 4], [1, 2, 4, 36, 1]]],
  ];
  for (const [world, g, plans] of cases) {
    for (const [tp, cp, pp, ep, etp] of plans) {
      const p = gridPlan({ tp, cp, pp, ep, etp }, world, 16, 4096);
      const t = groupTopology(p, g, newGroupTopology());
      const attn = (s: string): number[][] => attentionGroups(world, tp, cp, pp, s);
      const exp = (s: string): number[][] => expertGroups(world, etp, ep, pp, s);
      const what = `tp${tp} cp${cp} pp${pp} ep${ep} etp${etp} on ${world} GPUs, domains of ${g}`;
      // exact on 64-GPU domains (power-of-two strides divide them); on 72 a stride that does not divide the domain
      // (EDP at stride 16: 5 members in the first rack, 4 in the next) is counted conservatively, never fewer
      const same = (got: number, want: number, which: string): void => {
        if (g === 64) assert.equal(got, want, `${what}: ${which}`);
        else assert.ok(got >= want, `${what}: ${which} ${got} < ${want}`);
      };
      same(t.tpNodes, worstDomains(attn('tp'), g), 'tp');
      same(t.cpNodes, worstDomains(attn('cp'), g), 'cp');
      same(t.dpcpNodes, worstDomains(attn('dp-cp'), g), 'dp-cp');
      same(t.etpNodes, worstDomains(exp('tp'), g), 'etp');
      same(t.epNodes, worstDomains(exp('ep'), g), 'ep');
      same(t.etpEpNodes, worstDomains(exp('tp-ep'), g), 'etp-ep');
      same(t.edpNodes, worstDomains(exp('dp'), g), 'edp');
      assert.equal(t.ppInterNode, pp > 1 && worstDomains(attn('pp'), g) > 1, what);
    }
  }
});

test('DeepSeek-V3 on gb200-nvl72-256: EP64 inside one 64-GPU domain is priced at NVLink speed', () => {
  const spec = 'tp=1,pp=4,first=16,last=15,ep=64,etp=1,mbs=1,recompute=full,dispatcher=alltoall';
  const gb = scoreOn(DSV3, clusterOverrides(GB200_CLUSTER), spec);
  assert.equal(gb.epNodes, 1); assert.equal(gb.epPerNode, 64);
  // the same plan on 8-GPU H100 nodes: EP64 spans 8 nodes, its all-to-all goes through the NICs
  const h100 = scoreOn(DSV3, { gpu: 'h100-sxm', gpus: 256, gpusPerNode: 8 }, spec);
  assert.equal(h100.epNodes, 8); assert.equal(h100.epPerNode, 8);
  assert.ok(gb.est.time.epCommS * 5 < h100.est.time.epCommS,
    `EP a2a: gb200 domain ${gb.est.time.epCommS} s vs h100 nodes ${h100.est.time.epCommS} s`);
  // the domain, not the GPU, makes the difference: the same trays priced as 4-GPU NVLink islands
  const trays = scoreOn(DSV3, { ...clusterOverrides(GB200_CLUSTER), nvlinkDomain: 4 }, spec);
  assert.equal(trays.epNodes, 16);
  assert.ok(gb.est.time.epCommS * 5 < trays.est.time.epCommS,
    `EP a2a: domain 64 ${gb.est.time.epCommS} s vs trays of 4 ${trays.est.time.epCommS} s`);
  // and compute does not depend on the domain
  assert.equal(trays.est.time.expertsS, gb.est.time.expertsS);
});

test('nvlink_domain equal to gpus_per_node prices every plan exactly as without it', () => {
  const spec = 'tp=2,pp=8,vpp=7,ep=8,etp=1';
  const a = scoreOn('fixtures/models/mixtral-8x22b.yaml', { gpus: 128 }, spec);
  const b = scoreOn('fixtures/models/mixtral-8x22b.yaml', { gpus: 128, nvlinkDomain: 8 }, spec);
  assert.deepEqual(b.est, a.est);
  // a 16-GPU domain (four trays of one NVLink fabric) moves the communication, not compute
  const trays = { gpus: 128, gpu: 'gb200-nvl72', gpusPerNode: 4 };
  const c4 = scoreOn('fixtures/models/mixtral-8x22b.yaml', { ...trays, nvlinkDomain: 4 }, spec);
  const c16 = scoreOn('fixtures/models/mixtral-8x22b.yaml', { ...trays, nvlinkDomain: 16 }, spec);
  assert.equal(c16.est.time.expertsS, c4.est.time.expertsS);
  assert.ok(c16.est.time.epCommS + c16.est.time.dpCommS < c4.est.time.epCommS + c4.est.time.dpCommS,
    `EP + DP comm: domain 16 ${c16.est.time.epCommS + c16.est.time.dpCommS} s vs 4 ${c4.est.time.epCommS + c4.est.time.dpCommS} s`);
});

test('gb200-nvl72 calibration: sourced GB200 figures, 72-GPU domain, one NIC per GPU of a 4-GPU tray', () => {
  assert.ok(calibrationNames().includes('gb200-nvl72'));
  const gb = loadCalibration('gb200-nvl72');
  const b200 = loadCalibration('b200');
  assert.equal(gb.denseBf16PeakFlops, 2500e12);
  assert.equal(gb.denseFp8PeakFlops, 5000e12);
  assert.equal(gb.hbmCapacityBytes, 186e9);
  assert.equal(gb.nvlinkDomainGpus, 72);
  assert.equal(gb.nicsPerNode, 4);
  // fitted constants copied exactly as b200 carries them
  assert.equal(gb.tpOverlapFraction, b200.tpOverlapFraction);
  assert.equal(gb.stepOverheadS, b200.stepOverheadS);
  assert.equal(gb.moeLayerOverheadS, b200.moeLayerOverheadS);
  assert.equal(gb.gemmEffMaxFp8, b200.gemmEffMaxFp8);
  // GB300 NVL72: its own peaks, HBM and 800 Gb/s NICs, the same NVLink 5 domain and fitted constants
  const gu = loadCalibration('gb300-nvl72');
  assert.equal(gu.denseFp8PeakFlops, 5000e12);
  assert.equal(gu.hbmCapacityBytes, 288e9);
  assert.equal(gu.nicBytesPerS, 2 * gb.nicBytesPerS);
  assert.equal(gu.nvlinkDomainGpus, 72); assert.equal(gu.nicsPerNode, 4);
  assert.equal(gu.nvlinkAlltoallBusbw, gb.nvlinkAlltoallBusbw);
  assert.equal(gu.stepOverheadS, b200.stepOverheadS);
});

test('tune --gpu gb200-nvl72 on the fixture cluster: DeepSeek-V3, header names the NVLink domains', () => {
  const r = moefold('tune', DSV3, '--gpu', 'gb200-nvl72', '--gpus', '256', '--gpus-per-node', '4', '--nvlink-domain', '64',
    '--top', '3', '--workers', '0', '--no-timing');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /256 × gb200-nvl72 \(64 nodes × 4, NVLink domains of 64\)/);
});

test('nvlink_domain input rules: whole nodes, at most the calibration\'s domain, whole domains (exit 2, one line)', () => {
  const bad = (args: string[], want: RegExp): void => {
    const r = moefold('tune', DSV3, '--dry-run', ...args);
    assert.equal(r.status, 2, r.stdout + r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, want);
  };
  const gb = ['--gpu', 'gb200-nvl72', '--gpus-per-node', '4'];
  bad([...gb, '--gpus', '256', '--nvlink-domain', '66'],
    /--nvlink-domain: must be a multiple of --gpus-per-node \(4\): an NVLink domain is whole nodes \(got 66\)/);
  bad([...gb, '--gpus', '1024', '--nvlink-domain', '72'],
    /--gpus: must be a multiple of --nvlink-domain \(72\), or at most it for one partial NVLink domain \(got 1024\); on NVL72 racks use 64 of the 72 GPUs \(--nvlink-domain 64\)\n$/);
  bad([...gb, '--gpus', '256', '--nvlink-domain', '128'], /--nvlink-domain: must be at most 72: the gb200-nvl72 calibration's NVLink domain holds 72 GPUs/);
  bad(['--gpus', '128', '--nvlink-domain', '16'], /--nvlink-domain: must be at most 8: the h100-sxm calibration's NVLink domain holds 8 GPUs/);
  bad(['--gpus', '128', '--nvlink-domain', ''], /--nvlink-domain/);
  // in a cluster file the field is named as the file writes it
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'moefold-nvl-'));
  const cluster = path.join(dir, 'c.yaml');
  fs.writeFileSync(cluster, 'gpu: gb200-nvl72\ngpus: 288\ngpus_per_node: 4\nnvlink_domain: 70\n');
  const job = path.join(dir, 'job.yaml');
  fs.writeFileSync(job, `model: ${path.join(REPO_ROOT, DSV3)}\ncluster: c.yaml\n`);
  const r = moefold('tune', job, '--dry-run');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /c\.yaml: nvlink_domain: must be a multiple of gpus_per_node \(4\)/);
  // 288 GPUs = 4 full racks of 72 is fine; 32 GPUs inside one domain too
  fs.writeFileSync(cluster, 'gpu: gb200-nvl72\ngpus: 288\ngpus_per_node: 4\nnvlink_domain: 72\n');
  fs.writeFileSync(job, `model: ${path.join(REPO_ROOT, 'fixtures/models/mixtral-8x7b.yaml')}\ncluster: c.yaml\n`);
  assert.equal(moefold('tune', job, '--dry-run').status, 0);
  assert.equal(moefold('tune', 'fixtures/models/mixtral-8x7b.yaml', '--dry-run', ...gb, '--gpus', '32', '--nvlink-domain', '64').status, 0);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('SLURM export on GB200: nodes are trays of 4, --segment keeps each 64-GPU domain in one block', () => {
  const ctx = loadJobContext(path.join(REPO_ROOT, DSV3), clusterOverrides(GB200_CLUSTER), { warn: false });
  assert.equal(nvlinkDomainOf(ctx.job.cluster), 64);
  const plan = parsePlanSpec('tp=1,pp=4,first=16,last=15,ep=64,etp=1', ctx.job, ctx.shape);
  const s = slurmScript(ctx.job, ctx.shape, plan, 1);
  assert.match(s, /^#SBATCH --nodes=64$/m);
  assert.match(s, /^#SBATCH --gpus-per-node=4$/m);
  assert.match(s, /^#SBATCH --segment=16$/m);
  assert.match(s, /\(64 nodes x 4 GPUs, NVLink domains of 64 GPUs\)/);
  assert.equal(segmentNodes(ctx.job), 16);
  // 8-GPU nodes, each its own domain: no segment line
  const h = loadJobContext(path.join(REPO_ROOT, DSV3), { gpus: 256 }, { warn: false });
  assert.equal(segmentNodes(h.job), 0);
  assert.doesNotMatch(slurmScript(h.job, h.shape, parsePlanSpec('tp=1,pp=4,first=16,last=15,ep=64,etp=1', h.job, h.shape), 1), /--segment/);
  // a job inside one partial domain keeps all its trays together
  const small = loadJobContext(path.join(REPO_ROOT, DSV3), { ...clusterOverrides(GB200_CLUSTER), gpus: 32 }, { warn: false });
  assert.equal(segmentNodes(small.job), 8);
});

test('--gpu gb200-nvl72 alone: the calibration\'s system (trays of 4, 64-GPU domains), the file\'s 8-GPU nodes dropped', () => {
  // mixtral-8x22b.yaml describes 8-GPU H100 nodes; another GPU brings its own node and domain
  const mix = loadJobContext(path.join(REPO_ROOT, 'fixtures/models/mixtral-8x22b.yaml'), { gpu: 'gb200-nvl72', gpus: 256 }, { warn: false });
  assert.deepEqual(
    { perNode: mix.job.cluster.gpus_per_node, domain: mix.job.cluster.nvlink_domain },
    { perNode: 4, domain: 64 },
  );
  // the same GPU named again keeps the file's nodes, and an explicit node of another size gets no default domain
  const same = loadJobContext(path.join(REPO_ROOT, 'fixtures/models/mixtral-8x22b.yaml'), { gpu: 'h100-sxm' }, { warn: false });
  assert.equal(same.job.cluster.gpus_per_node, 8); assert.equal(same.job.cluster.nvlink_domain, undefined);
  const eight = loadJobContext(path.join(REPO_ROOT, DSV3), { gpu: 'gb200-nvl72', gpus: 256, gpusPerNode: 8 }, { warn: false });
  assert.equal(nvlinkDomainOf(eight.job.cluster), 8);
  // the default prices exactly as the explicit shape
  const spec = 'tp=1,pp=4,first=16,last=15,ep=64,etp=1,mbs=1,recompute=full,dispatcher=alltoall';
  const dflt = scoreOn(DSV3, { gpu: 'gb200-nvl72', gpus: 256 }, spec);
  assert.deepEqual(dflt.est, scoreOn(DSV3, clusterOverrides(GB200_CLUSTER), spec).est);
  // HGX calibrations: 8-GPU nodes, each its own domain (every existing job unchanged)
  const h = loadJobContext(path.join(REPO_ROOT, DSV3), { gpus: 1024 }, { warn: false });
  assert.equal(h.job.cluster.gpus_per_node, 8); assert.equal(h.job.cluster.nvlink_domain, undefined);
  // a job that does not fill whole default domains is refused, naming the default and how to set another
  const r = moefold('tune', DSV3, '--dry-run', '--gpu', 'gb200-nvl72', '--gpus', '96');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--gpus: must be a multiple of nvlink_domain \(64: the gb200-nvl72 default, network\.default_nvlink_domain; set nvlink_domain or --nvlink-domain for another\)/);
});

test('tie order on GB200: an EP group is counted by the NVLink domains it spans, not by trays of 4', async () => {
  const { rankContext } = await import('../src/search/pool.js');
  const gb = loadJobContext(path.join(REPO_ROOT, DSV3), { gpu: 'gb200-nvl72', gpus: 1024 }, { warn: false });
  const rc = rankContext(gb.job, gb.calibration);
  assert.equal(rc.nvlinkDomainGpus, 64);
  // EP64 inside one 64-GPU domain is one "node" for the simplicity key, as the cost model prices it
  const plan = parsePlanSpec('tp=1,pp=8,ep=64,etp=1,first=8,last=5', gb.job, gb.shape);
  assert.equal(groupTopology(plan, rc.nvlinkDomainGpus, newGroupTopology(), rc.rankOrder).epNodes, 1);
  const h = loadJobContext(path.join(REPO_ROOT, DSV3), { gpus: 1024 }, { warn: false });
  assert.equal(rankContext(h.job, h.calibration).nvlinkDomainGpus, 8);
});
