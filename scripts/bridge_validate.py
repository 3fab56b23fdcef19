"""Megatron-Bridge's own verdict on `megatron-bridge` exports: its recipe, its Hydra override parser, its runtime config update and validate().

Usage: python3 scripts/bridge_validate.py WORK_DIR EXPORT_DIR...

Dev-time only (npm test never runs it). EXPORT_DIR holds plan-N.bridge-overrides.txt files (`moefold tune FILE
--top 5 --out DIR --export megatron-bridge`). WORK_DIR holds three source trees kept outside this repository:
  WORK_DIR/bridge  NVIDIA-NeMo/Megatron-Bridge at 067f987 (its src/ and scripts/training/, scripts/common/)
  WORK_DIR/mlm     NVIDIA/Megatron-LM at d98e8a6 (its megatron/)
  WORK_DIR/hydra   facebookresearch/hydra at v1.3.2 (the hydra-core Bridge pins, <=1.3.2), with its ANTLR parser
                   generated: cd hydra/hydra/grammar && antlr4 -Dlanguage=Python3 -visitor -o gen -Xexact-output-dir
                   OverrideLexer.g4 OverrideParser.g4 (Debian's antlr4 4.7.2; the python3-antlr4 4.9 runtime reads it)
e.g. git -C MIRROR archive HEAD src scripts | tar -x -C WORK_DIR/bridge. Run with /usr/bin/python3 (Debian's
python3-torch, python3-omegaconf, python3-antlr4, python3-packaging).

For each file: the recipe named in its header (`--recipe NAME`) is loaded by Bridge's own
scripts/training/recipe_runner.py load_recipe (a benchmark recipe where perf_recipes exports the name), the overrides
are applied by recipe_runner.apply_cli_overrides (Bridge's omegaconf_utils: hydra's OverridesParser on the container
in struct mode), the runner's sync_model_pipeline_layout and sync_model_dataset_sequence_length run as
run_recipe.py runs them, and training/config.py runtime_config_update (what training runs before building the model:
the mixed-precision and comm-overlap setup, then ConfigContainer.validate()) runs with WORLD_SIZE the file's GPU count. Stand-ins, for
what a CPU machine with Debian's torch 1.13 lacks and validation never runs: modules that are not installed
(transformers, transformer_engine, triton, ...: classes that accept anything), a few newer torch names, and
AutoBridge.from_hf_pretrained (no network): it returns the model config of the named Hugging Face model built from
the architecture below (the fixtures' values, each citing the model's config.json), as a ModelProvider or, for
get_model_config (Llama 3), a builder-backed GPTModelConfig, as the real bridges do. A key the recipe lacks, a value
Hydra cannot parse, an override Bridge skips with a warning, or a failing validate() is a rejection.
A key whose value the runtime update replaced is listed after the verdict (`changed at run time`).
Exit 0 when every file is accepted, 1 otherwise; one line per file.
"""
import abc, glob, importlib, importlib.abc, importlib.machinery, logging, os, re, sys, traceback, types

WORK = sys.argv[1]
sys.path[:0] = [f'{WORK}/bridge/src', f'{WORK}/mlm', f'{WORK}/hydra', f'{WORK}/bridge/scripts/training', f'{WORK}/bridge/scripts/common']

# ---- stand-ins ----
import torch  # noqa: E402
import torch.fx  # noqa: E402
import typing  # noqa: E402

for n in ('float8_e4m3fn', 'float8_e5m2', 'float8_e8m0fnu', 'float8_e4m3fnuz', 'float8_e5m2fnuz', 'float4_e2m1fn_x2', 'uint16', 'uint32', 'uint64'):
    if not hasattr(torch, n):
        setattr(torch, n, torch.uint8)
torch.compile = lambda fn=None, *a, **k: fn if callable(fn) else (lambda f: f)
torch.jit.script = lambda obj=None, *a, **k: obj
torch.fx.wrap = lambda f: f
typing.override = getattr(typing, 'override', lambda f: f)
torch.cuda.get_device_capability = lambda *a, **k: (9, 0)
torch.cuda.get_device_properties = lambda *a, **k: types.SimpleNamespace(
    major=9, minor=0, name='NVIDIA H100 80GB HBM3', total_memory=80 * 2**30, multi_processor_count=132)
_no_grad = torch.no_grad


class _NoGrad(_no_grad):
    """torch.no_grad usable bare as a decorator (newer torch)."""
    def __new__(cls, fn=None):
        return _no_grad()(fn) if callable(fn) else super().__new__(cls)

    def __init__(self, fn=None):
        super().__init__()


torch.no_grad = _NoGrad


class _Meta(abc.ABCMeta):
    def register(cls, *a, **k):
        return a[-1] if a else None

    def __getattr__(cls, name):
        if name.startswith('__'):
            raise AttributeError(name)
        return stub(name)


def _inst_getattr(self, name):
    if name.startswith('__'):
        raise AttributeError(name)
    return stub(name)


def stub(name):
    """A class that accepts any construction, attribute, subscript or call (a decorator call returns its function)."""
    return _Meta(name, (), {
        '__init__': lambda self, *a, **k: None, '__getattr__': _inst_getattr, '__iter__': lambda self: iter(()),
        '__class_getitem__': classmethod(lambda cls, item: cls),
        '__call__': lambda self, *a, **k: a[0] if len(a) == 1 and callable(a[0]) and not k else self})


class StubModule(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith('__'):
            raise AttributeError(name)
        v = stub(name)
        setattr(self, name, v)
        return v


STUB_MODULES = ['torch.distributed.checkpoint', 'torch.distributed._shard', 'torch.distributed._tensor', 'torch.distributed.tensor',
                'torch.distributed.fsdp', 'torch.distributed.device_mesh', 'torch.distributed._composable',
                'torch.distributed._symmetric_memory', 'transformers', 'transformer_engine', 'apex', 'triton', 'numpy.dtypes',
                'flash_attn', 'safetensors', 'rich', 'filelock', 'einops', 'datasets', 'tensorboard', 'wandb', 'mlflow', 'nvidia_resiliency_ext', 'megatron.energon', 'modelopt', 'tqdm', 'diffusers', 'google',
                'megatron.bridge.models.qwen3_asr']  # its HF modeling code subclasses transformers' generics
STUB_ATTRS = [('torch.distributed', 'DeviceMesh'), ('torch.cuda.memory', 'CUDAPluggableAllocator'), ('torch.distributed', '_coalescing_manager'),
              ('torch.optim.optimizer', 'ParamsT'), ('torch.cuda', 'MemPool')]


class Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path, target=None):
        if any(name == m or name.startswith(m + '.') for m in STUB_MODULES):
            return importlib.machinery.ModuleSpec(name, self, is_package=True)
        return None

    def create_module(self, spec):
        m = StubModule(spec.name)
        m.__path__, m.__version__ = [], '99.0.0'
        m.__spec__ = spec
        parent, _, child = spec.name.rpartition('.')
        if parent in sys.modules and not isinstance(sys.modules[parent], StubModule):
            setattr(sys.modules[parent], child, m)
        return m

    def exec_module(self, module):
        pass


sys.meta_path.insert(0, Finder())
for m in STUB_MODULES:
    if m.startswith('torch.'):
        importlib.import_module(m)
# Transformer Engine as the launch would have it: the version Megatron's checks see (BRIDGE_TE_VERSION, default
# 2.12.0) and a FusedAdam with the precision-aware arguments (optimizer_config.py inspects its signature)
_te = importlib.import_module('transformer_engine')
_te.__version__ = os.environ.get('BRIDGE_TE_VERSION', '2.12.0')


class _FusedAdam:
    def __init__(self, params, master_weight_dtype=None, exp_avg_dtype=None, exp_avg_sq_dtype=None, use_decoupled_grad=False, **k):
        pass


importlib.import_module('transformer_engine.pytorch.optimizers').FusedAdam = _FusedAdam
for mod, attr in STUB_ATTRS:
    if not hasattr(importlib.import_module(mod), attr):
        setattr(importlib.import_module(mod), attr, stub(attr))

# ---- the models, as the bridges would convert their Hugging Face configs (values from fixtures/models/*.yaml) ----
from megatron.bridge.models.gpt_provider import GPTModelProvider  # noqa: E402
from megatron.bridge.models.mla_provider import MLAModelProvider  # noqa: E402
from megatron.bridge.models.gpt.gpt_builder import GPTModelConfig  # noqa: E402
from megatron.bridge.models.transformer_config import TransformerConfig  # noqa: E402
import megatron.bridge.models.conversion.auto_bridge as auto_bridge  # noqa: E402

COMMON = dict(normalization='RMSNorm', gated_linear_unit=True, add_bias_linear=False, add_qkv_bias=False, hidden_dropout=0.0,
              attention_dropout=0.0, bf16=True, params_dtype=torch.bfloat16)
LLAMA = dict(COMMON, activation_func=torch.nn.functional.silu)
MODELS = {
    'meta-llama/Meta-Llama-3-70B': ('builder', dict(LLAMA, num_layers=80, hidden_size=8192, num_attention_heads=64, num_query_groups=8,
                                                    ffn_hidden_size=28672, kv_channels=128), dict(vocab_size=128256, rotary_base=500000)),
    'meta-llama/Meta-Llama-3.1-405B': ('builder', dict(LLAMA, num_layers=126, hidden_size=16384, num_attention_heads=128, num_query_groups=8,
                                                       ffn_hidden_size=53248, kv_channels=128), dict(vocab_size=128256, rotary_base=500000)),
    'Qwen/Qwen3-30B-A3B': ('provider', dict(COMMON, activation_func=torch.nn.functional.silu, num_layers=48, hidden_size=2048,
                                            num_attention_heads=32, num_query_groups=4, kv_channels=128, ffn_hidden_size=6144,
                                            qk_layernorm=True, num_moe_experts=128, moe_router_topk=8, moe_ffn_hidden_size=768,
                                            moe_grouped_gemm=True, vocab_size=151936, position_embedding_type='rope'), None),
    'Qwen/Qwen3-235B-A22B': ('provider', dict(COMMON, activation_func=torch.nn.functional.silu, num_layers=94, hidden_size=4096,
                                              num_attention_heads=64, num_query_groups=4, kv_channels=128, ffn_hidden_size=12288,
                                              qk_layernorm=True, num_moe_experts=128, moe_router_topk=8, moe_ffn_hidden_size=1536,
                                              moe_grouped_gemm=True, vocab_size=151936, position_embedding_type='rope'), None),
    'deepseek-ai/DeepSeek-V3': ('mla', dict(COMMON, activation_func=torch.nn.functional.silu, num_layers=61, hidden_size=7168,
                                            num_attention_heads=128, ffn_hidden_size=18432, num_moe_experts=256, moe_router_topk=8,
                                            moe_ffn_hidden_size=2048, moe_shared_expert_intermediate_size=2048,
                                            moe_layer_freq=[0] * 3 + [1] * 58, q_lora_rank=1536, kv_lora_rank=512, qk_head_dim=128,
                                            qk_pos_emb_head_dim=64, v_head_dim=128, moe_router_score_function='sigmoid',
                                            moe_router_enable_expert_bias=True, moe_router_num_groups=8, moe_router_group_topk=4,
                                            moe_router_topk_scaling_factor=2.5, moe_grouped_gemm=True, vocab_size=129280,
                                            position_embedding_type='rope', multi_latent_attention=True), None),
}


class FakeAutoBridge:
    def __init__(self, name):
        if name not in MODELS:
            raise SystemExit(f'no stand-in architecture for {name}')
        self.kind, self.fields, self.gpt = MODELS[name]

    @classmethod
    def from_hf_pretrained(cls, name, *a, **k):
        return cls(name)

    def to_megatron_provider(self, *a, **k):
        return (MLAModelProvider if self.kind == 'mla' else GPTModelProvider)(**self.fields)

    def get_model_config(self):
        return GPTModelConfig(transformer=TransformerConfig(**self.fields), **self.gpt)


auto_bridge.AutoBridge.from_hf_pretrained = FakeAutoBridge.from_hf_pretrained
for modname, mod in list(sys.modules.items()):
    if modname.startswith('megatron.bridge') and getattr(mod, 'AutoBridge', None) is auto_bridge.AutoBridge:
        pass  # the class itself is patched: every importer sees it

import recipe_runner  # noqa: E402  (scripts/training)
import megatron.bridge.training.config as config_mod  # noqa: E402


class Skips(logging.Handler):
    """Bridge logs an override it cannot apply as a warning and goes on: that is a rejection here."""
    def __init__(self):
        super().__init__(logging.WARNING)
        self.seen = []

    def emit(self, record):
        msg = record.getMessage()
        if 'in overrides not found' in msg or 'Could not set attribute' in msg or 'Failed to instantiate' in msg:
            self.seen.append(msg)


def overwritten(cfg, overrides):
    """The overrides whose value the runtime update replaced (a key that does not stick), as key=override->final."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    out = []
    for o in OverridesParser.create().parse_overrides(overrides):
        if o.key_or_group.startswith('env_vars.'):
            continue
        obj = cfg
        for part in o.key_or_group.split('.'):
            obj = getattr(obj, part)
        want = o.value()
        got = obj.dtype if hasattr(obj, 'dtype') and not isinstance(want, str) else obj
        if isinstance(got, torch.dtype):
            continue
        # a null the model fills with its derived default (microbatch group = PP, recompute_modules) is not a
        # replaced value; a pipeline layout string comes back parsed
        if want is None or (isinstance(want, str) and str(got) == want):
            continue
        if got != want and not (isinstance(want, list) and list(got or []) == want):
            out.append(f'{o.key_or_group}={want!r}->{got!r}')
    return out


def check(path):
    text = open(path).read()
    recipe = re.search(r'--recipe (\S+)', text).group(1)
    world = int(re.search(r'\((\d+) GPUs in all', text).group(1))
    overrides = [l for l in text.splitlines() if l and not l.startswith('#')]
    os.environ.update(WORLD_SIZE=str(world), RANK='0', LOCAL_RANK='0')
    skips = Skips()
    logging.getLogger().addHandler(skips)
    try:
        cfg = recipe_runner.load_recipe(recipe)
        cfg = recipe_runner.apply_cli_overrides(cfg, overrides)
        cfg = recipe_runner.sync_model_pipeline_layout(cfg, cli_overrides=overrides)
        cfg = recipe_runner.sync_model_dataset_sequence_length(cfg)
        if skips.seen:
            return f'rejected: {skips.seen[0]}'
        # what training runs before it builds the model: precision and comm-overlap setup, then validate()
        config_mod.runtime_config_update(cfg)
        changed = overwritten(cfg, overrides)
        return 'accepted' + (f'; changed at run time: {", ".join(changed)}' if changed else '')
    except ModuleNotFoundError as e:  # the harness lacks a stand-in: not Bridge's verdict
        return f'harness: {e}'
    except Exception as e:  # the verdict: Bridge's own error
        last = traceback.extract_tb(e.__traceback__)[-1]
        return f'rejected: {type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ""} ({os.path.basename(last.filename)}:{last.lineno})'
    finally:
        logging.getLogger().removeHandler(skips)


files = sorted(f for d in sys.argv[2:] for f in glob.glob(os.path.join(d, '*.bridge-overrides.txt')))
bad = 0
for f in files:
    verdict = check(f)
    bad += verdict != 'accepted'
    print(f'{f}: {verdict}', flush=True)
print(f'{len(files) - bad} of {len(files)} accepted')
sys.exit(1 if bad else 0)
