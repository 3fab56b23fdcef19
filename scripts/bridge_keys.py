"""Snapshot of the Megatron-Bridge ConfigContainer keys the megatron-bridge export can write, with their types.

Usage: python3 scripts/bridge_keys.py BRIDGE_GIT_DIR MEGATRON_LM_GIT_DIR > data/upstream/megatron-bridge-067f987.json

Both directories are git repositories (bare mirrors are fine) of NVIDIA-NeMo/Megatron-Bridge and NVIDIA/Megatron-LM;
the files are read at their HEAD commits (`git show HEAD:path`), which the snapshot records. Nothing is imported:
the dataclass fields are read from the source with Python's ast module, following each class's bases through the
file's imports (megatron.bridge.* in Bridge's src/, megatron.core.* / megatron.training.* in Megatron-LM), so no
torch, hydra or GPU is needed. Dev-time only; test/export/bridge-keys.test.ts reads the checked-in snapshot.

Sections (src/megatron/bridge/training/config.py ConfigContainer): train TrainingConfig, ddp
DistributedDataParallelConfig, optimizer OptimizerConfig, comm_overlap CommOverlapConfig, mixed_precision
MixedPrecisionConfig, logger LoggerConfig, dataset GPTDatasetConfig (the pre-training member of its union); model
in a provider recipe: GPTModelProvider (models/gpt_provider.py, with Megatron-Core's TransformerConfig and
ModelParallelConfig); model in a builder recipe: GPTModelConfig (models/gpt/gpt_builder.py, over Megatron-LM's
megatron/training/models/gpt.py) with model.transformer Megatron-Core's TransformerConfig. env_vars is a dict.

Each field gets `types`, a list drawn from bool, int, float, str, list, dict, null, any (any: a type the override
cannot be checked against, e.g. a callable), and `choices` for a Literal of strings.
"""
import ast, json, subprocess, sys

BRIDGE, MLM = sys.argv[1], sys.argv[2]


def git(repo, *args):
    return subprocess.run(['git', '-C', repo, *args], check=True, capture_output=True, text=True).stdout


def show(repo, path):
    try:
        return git(repo, 'show', f'HEAD:{path}')
    except subprocess.CalledProcessError:
        return None


def module_source(module):
    """(repo, path, source) of a module name, or None when it is outside the two repositories."""
    if module.startswith('megatron.bridge'):
        repo, base = BRIDGE, 'src/' + module.replace('.', '/')
    elif module.startswith('megatron.core') or module.startswith('megatron.training'):
        repo, base = MLM, module.replace('.', '/')
    else:
        return None
    for path in (base + '.py', base + '/__init__.py'):
        src = show(repo, path)
        if src is not None:
            return repo, path, src
    return None


_parsed = {}


def parse(module):
    if module not in _parsed:
        found = module_source(module)
        _parsed[module] = None if found is None else (found[1], ast.parse(found[2]))
    return _parsed[module]


def find_class(module, name, depth=0):
    """(module, ClassDef) for `name` as seen from `module`, following from-imports (and package re-exports)."""
    got = parse(module)
    if got is None or depth > 8:
        return None
    _, tree = got
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == name:
            return module, node
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            src_mod = node.module if node.level == 0 else resolve_relative(module, node)
            for alias in node.names:
                if (alias.asname or alias.name) == name:
                    return find_class(src_mod, alias.name, depth + 1)
    return None


def resolve_relative(module, node):
    parts = module.split('.')
    is_pkg = parse(module)[0].endswith('__init__.py')
    base = parts if is_pkg else parts[:-1]
    base = base[: len(base) - (node.level - 1)]
    return '.'.join(base + ([node.module] if node.module else []))


def types_of(annotation):
    text = ast.unparse(annotation)
    t, choices = set(), None
    if 'Optional' in text or 'None' in text:
        t.add('null')
    if isinstance(annotation, ast.Subscript) and ast.unparse(annotation.value).endswith('Literal'):
        vals = [ast.literal_eval(e) for e in (annotation.slice.elts if isinstance(annotation.slice, ast.Tuple) else [annotation.slice])]
        choices = [v for v in vals if isinstance(v, str)]
        t.update('str' if isinstance(v, str) else 'bool' if isinstance(v, bool) else 'int' for v in vals)
    words = set(__import__('re').findall(r'[A-Za-z_][A-Za-z0-9_.]*', text))
    for w, k in (('bool', 'bool'), ('int', 'int'), ('float', 'float'), ('str', 'str'), ('list', 'list'), ('List', 'list'),
                 ('tuple', 'list'), ('Tuple', 'list'), ('dict', 'dict'), ('Dict', 'dict'), ('torch.dtype', 'str')):
        if w in words:
            t.add(k)
    if 'Literal' in words and choices is None:
        for m in __import__('re').findall(r"'([^']*)'|\"([^\"]*)\"", text):
            choices = (choices or []) + [m[0] or m[1]]
        t.add('str')
    if not (t - {'null'}):
        t.add('any')
    return sorted(t), choices


def fields(module, name, seen=None):
    """Every dataclass field of class `name` (bases first), as {field: {types, choices?, defined}}."""
    found = find_class(module, name)
    if found is None:
        raise SystemExit(f'class {name} not found from {module}')
    mod, cls = found
    out = {}
    for base in cls.bases:
        bname = ast.unparse(base).split('.')[-1]
        if bname in ('object', 'Generic', 'ABC', 'Protocol') or bname.startswith('Generic['):
            continue
        if find_class(mod, bname) is not None:
            out.update(fields(mod, bname))
    for node in cls.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            if 'ClassVar' in ast.unparse(node.annotation) or node.target.id.startswith('_'):
                continue
            types, choices = types_of(node.annotation)
            entry = {'types': types, 'defined': f'{parse(mod)[0]}:{cls.name}'}
            if choices:
                entry['choices'] = choices
            out[node.target.id] = entry
    return out


SECTIONS = {
    'train': ('megatron.bridge.training.config', 'TrainingConfig'),
    'ddp': ('megatron.bridge.training.config', 'DistributedDataParallelConfig'),
    'optimizer': ('megatron.bridge.training.config', 'OptimizerConfig'),
    'comm_overlap': ('megatron.bridge.training.comm_overlap', 'CommOverlapConfig'),
    'mixed_precision': ('megatron.bridge.training.mixed_precision', 'MixedPrecisionConfig'),
    'logger': ('megatron.bridge.training.config', 'LoggerConfig'),
    'dataset': ('megatron.bridge.training.config', 'GPTDatasetConfig'),
    'model@provider': ('megatron.bridge.models.gpt_provider', 'GPTModelProvider'),
    'model@builder': ('megatron.bridge.models.gpt.gpt_builder', 'GPTModelConfig'),
    'model.transformer@builder': ('megatron.core.transformer.transformer_config', 'TransformerConfig'),
}

snapshot = {
    'about': 'Megatron-Bridge ConfigContainer keys and their types, extracted by scripts/bridge_keys.py (no imports: '
             'dataclass fields read with ast); model@provider / model@builder are the two model nestings of '
             'src/export/bridge-recipes.ts',
    'megatron_bridge_commit': git(BRIDGE, 'rev-parse', 'HEAD').strip(),
    'megatron_lm_commit': git(MLM, 'rev-parse', 'HEAD').strip(),
    'sections': {k: dict(sorted(fields(m, c).items())) for k, (m, c) in SECTIONS.items()},
    'dict_sections': ['env_vars'],
}
json.dump(snapshot, sys.stdout, indent=1, ensure_ascii=False)
sys.stdout.write('\n')
