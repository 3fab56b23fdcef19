"""torchtitan v0.2.2's own verdict on moefold's torchtitan exports: its ConfigManager, ParallelDims and model flavours.

Usage: /usr/bin/python3 scripts/torchtitan-validate.py TORCHTITAN_DIR FILE_OR_DIR...

TORCHTITAN_DIR is a source tree of pytorch/torchtitan at tag v0.2.2 (kept outside this repo), e.g.
    mkdir /tmp/tt && git -C /path/to/torchtitan.git archive v0.2.2 torchtitan | tar -x -C /tmp/tt
Every *.toml under the FILE_OR_DIR arguments is checked; *.refused.txt beside them are counted as refusals.
To produce them: `moefold tune FIXTURE --top 5 --out DIR --export torchtitan` for each fixture (fixtures/models
without a cluster take `--gpus 128`).

Needs on sys.path (PYTHONPATH): tyro and what it imports (typeguard >= 4, docstring_parser, typing_extensions
>= 4.13): pure-Python packages, e.g. their source trees from GitHub when PyPI is out of reach; and Debian's
python3-torch. the __init__ of the packages torchtitan and torchtitan.distributed (they import the quantization converters
and DTensor code, which need a newer torch) are skipped, and torch.distributed's device_mesh, which ParallelDims imports but its checks never use, is a
stand-in, as is torch._utils._get_device_module (tools/utils.py imports it to pick the device); the rest
runs as torchtitan ships it.

For each file:
  1. torchtitan.config.manager.ConfigManager().parse_args(['--job.config_file', FILE]): TOML -> JobConfig
     (unknown sections or keys are errors there), then tyro.cli and _validate_config; tyro only warns about a
     value of the wrong type (e.g. a Literal's value outside it): such a warning fails the file here;
  2. ParallelDims(...) of torchtitan/distributed/parallel_dims.py with the file's degrees and the world size
     written in its header ("NGPU x nodes = N"): its _validate (product of degrees = world, ETP = TP or 1);
  3. the checks of torchtitan/train.py and distributed/pipeline_parallel.py that need no GPU, restated here:
     global_batch_size % (local_batch_size * dp) == 0; local_batch_size % pipeline_parallel_microbatch_size == 0;
     the stage count a multiple of PP, one stage per rank for 1F1B and at least two for Interleaved1F1B; every
     decoder layer layers.0 .. layers.(n_layers - 1) in exactly one stage, tok_embeddings first, norm/output last;
     seq_len % (TP * 2 * CP) == 0 (parallelize.py);
  4. [model] name/flavor is a flavour of torchtitan/models/<name>/__init__.py (read with ast) whose n_layers is
     the file's layer count.
Prints one line per file and a summary; exit 0 when all pass.
"""
import ast
import importlib
import importlib.machinery
import json
import os
import re
import sys
import types
import warnings
from unittest import mock


def setup(tt_dir):
    sys.path.insert(0, tt_dir)
    for name in ('torchtitan', 'torchtitan.distributed'):  # packages whose __init__ wants a newer torch
        package = types.ModuleType(name)
        package.__path__ = [os.path.join(tt_dir, *name.split('.'))]
        package.__spec__ = importlib.machinery.ModuleSpec(name, None, is_package=True)
        sys.modules[name] = package
    import torch.distributed as dist
    try:
        importlib.import_module('torch.distributed.device_mesh')
    except ImportError:
        fake = mock.MagicMock(name='torch.distributed.device_mesh')
        sys.modules['torch.distributed.device_mesh'] = fake
        dist.device_mesh = fake
    import torch._utils
    if not hasattr(torch._utils, '_get_device_module'):  # torchtitan/tools/utils.py imports it; unused here
        torch._utils._get_device_module = lambda *a, **k: mock.MagicMock(name='device_module')
    manager = importlib.import_module('torchtitan.config.manager')
    parallel_dims = importlib.import_module('torchtitan.distributed.parallel_dims')
    return manager.ConfigManager, parallel_dims.ParallelDims


def flavour_layers(tt_dir, model):
    """flavour -> n_layers of torchtitan/models/<model>/__init__.py (its *_args / *_configs dict)."""
    path = os.path.join(tt_dir, 'torchtitan', 'models', model, '__init__.py')
    if not os.path.exists(path):
        return None
    out = {}
    for node in ast.walk(ast.parse(open(path).read())):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict):
            for k, v in zip(node.value.keys, node.value.values):
                if isinstance(k, ast.Constant) and isinstance(v, ast.Call):
                    layers = next((kw.value.value for kw in v.keywords if kw.arg == 'n_layers'), None)
                    out[k.value] = layers
    return out


def check(path, tt_dir, ConfigManager, ParallelDims):
    text = open(path).read()
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter('always')
        config = ConfigManager().parse_args(['--job.config_file', path])
    # tyro only warns when a TOML value does not have its field's type (a Literal's value outside it, "2" for an
    # int): count that as a failure
    mismatched = [str(w.message).split('. ')[0] for w in seen if 'is annotated with type' in str(w.message)]
    assert not mismatched, '; '.join(mismatched)
    p, t = config.parallelism, config.training
    world = int(re.search(r'NGPU x nodes = (\d+)', text).group(1))
    dims = ParallelDims(dp_shard=p.data_parallel_shard_degree, dp_replicate=p.data_parallel_replicate_degree,
                        cp=p.context_parallel_degree, tp=p.tensor_parallel_degree, pp=p.pipeline_parallel_degree,
                        ep=p.expert_parallel_degree, etp=p.expert_tensor_parallel_degree, world_size=world)
    dp = dims.dp_replicate * dims.dp_shard
    assert t.global_batch_size % (t.local_batch_size * dp) == 0, 'global batch not a multiple of local x dp'
    assert t.seq_len % (dims.tp * 2 * dims.cp) == 0, 'seq_len not divisible by TP x 2 x CP'
    flavours = flavour_layers(tt_dir, config.model.name)
    assert flavours is not None, f'no torchtitan model {config.model.name}'
    assert config.model.flavor in flavours, f'no flavour {config.model.flavor} of {config.model.name}'
    n_layers = flavours[config.model.flavor]
    if dims.pp > 1:
        assert t.local_batch_size % p.pipeline_parallel_microbatch_size == 0, 'local batch not a multiple of the microbatch'
        stages = p.module_fqns_per_model_part
        assert stages and len(stages) % dims.pp == 0, 'stage count not a multiple of PP'
        per_rank = len(stages) // dims.pp
        if p.pipeline_parallel_schedule == '1F1B':
            assert per_rank == 1, '1F1B runs one stage per rank'
        else:
            assert per_rank >= 2, 'a looped schedule needs two or more stages per rank'
        flat = [m for s in stages for m in s]
        assert flat[0] == 'tok_embeddings' and flat[-2:] == ['norm', 'output'], 'embedding first, norm/output last'
        layers = [m for m in flat if m.startswith('layers.')]
        if n_layers is not None:
            assert layers == [f'layers.{i}' for i in range(n_layers)], 'every decoder layer once, in order'
    return f'{config.model.name} {config.model.flavor}, world {world}'


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    tt_dir = os.path.abspath(sys.argv[1])
    ConfigManager, ParallelDims = setup(tt_dir)
    files, refused = [], 0
    for arg in sys.argv[2:]:
        if os.path.isdir(arg):
            for root, _, names in os.walk(arg):
                files += [os.path.join(root, n) for n in names if n.endswith('.toml')]
                refused += sum(n.endswith('.toml.refused.txt') for n in names)
        else:
            files.append(arg)
    bad = 0
    for f in sorted(files):
        try:
            print(json.dumps({'file': f, 'ok': True, 'what': check(f, tt_dir, ConfigManager, ParallelDims)}))
        except BaseException as e:  # SystemExit from tyro, AssertionError, ValueError, ...
            bad += 1
            print(json.dumps({'file': f, 'ok': False, 'why': f'{type(e).__name__}: {e}'}))
    print(f'torchtitan v0.2.2: {len(files) - bad} of {len(files)} files accepted; {refused} exports refused by moefold')
    sys.exit(1 if bad else 0)


if __name__ == '__main__':
    main()
