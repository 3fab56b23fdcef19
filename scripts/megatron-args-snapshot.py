"""Snapshot of Megatron-LM's command-line parser: every option, as its own argparse parser defines it.

Usage: /usr/bin/python3 scripts/megatron-args-snapshot.py MEGATRON_DIR > data/upstream/megatron-lm-<commit>.args.json

MEGATRON_DIR is a source tree of NVIDIA/Megatron-LM (kept outside this repo), e.g.
    mkdir /tmp/mlm && git -C /path/to/Megatron-LM.git archive d98e8a6 megatron | tar -x -C /tmp/mlm
The commit is read from MEGATRON_COMMIT (the full hash; the tree from `git archive` has no .git), and written
into the snapshot with the date it was taken. Needs only Debian's python3-torch and python3-packaging
(/usr/bin/python3); PyPI is not needed.

How: megatron/training/arguments.py parse_args() builds the parser (argparse.ArgumentParser plus
add_megatron_arguments) and then calls parser.parse_args(). This script replaces ArgumentParser.parse_args by a
function that hands the finished parser back (through an exception), so the parser Megatron itself builds is
read, not re-declared. Modules that importing arguments.py pulls in but argument parsing never runs (Transformer
Engine, Apex, parts of torch this Debian torch lacks, ...) are replaced by permissive stand-ins; Megatron's own
modules are always the real ones.

Written for each option: option strings, dest, action kind (store, store_true, store_false, store_const,
append, count, or the custom Action's class name), type (int, float, str, or the name of the conversion
function, e.g. moe_freq_type), nargs, choices and default (as JSON; other values as their str()).

Dev-time only: test/export/megatron-args-snapshot.test.ts reads the checked-in JSON, never this script.
"""
import argparse
import enum
import importlib.abc
import importlib.machinery
import json
import os
import re
import sys
import types
import typing
from unittest import mock


class Captured(Exception):
    def __init__(self, parser):
        super().__init__('parser captured')
        self.parser = parser


def fake_module(name):
    """A module whose every attribute exists (a MagicMock): stands in for code that is imported, never run."""
    module = mock.MagicMock(name=name)
    module.__path__ = []
    module.__version__ = '99.0.0'
    module.__spec__ = importlib.machinery.ModuleSpec(name, None, is_package=True)
    sys.modules[name] = module
    parent, _, leaf = name.rpartition('.')
    if parent in sys.modules:
        try:
            setattr(sys.modules[parent], leaf, module)
        except (AttributeError, TypeError):
            pass
    return module


class FakeChildren(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Every submodule of a faked module is faked as well."""

    def __init__(self):
        self.roots = set()

    def find_spec(self, name, path, target=None):
        if any(name.startswith(root + '.') for root in self.roots):
            return importlib.machinery.ModuleSpec(name, self, is_package=True)
        return None

    def create_module(self, spec):
        return fake_module(spec.name)

    def exec_module(self, module):
        pass


def import_arguments(megatron_dir):
    """megatron.training.arguments, faking what is missing here (never a megatron module) until it imports."""
    sys.path.insert(0, megatron_dir)
    import torch

    finder = FakeChildren()
    sys.meta_path.insert(0, finder)
    # torch.distributed pieces that Debian's torch has in older forms Megatron's dataclasses cannot import
    for name in ('torch.distributed.checkpoint', 'torch.distributed._shard', 'torch.distributed._tensor',
                 'torch.distributed.tensor', 'torch.distributed.fsdp', 'torch.distributed.device_mesh',
                 'torch.distributed._composable'):
        fake_module(name)
        finder.roots.add(name)
    if not hasattr(typing, 'override'):
        typing.override = lambda f: f
    torch.jit.script = lambda fn=None, *a, **k: fn
    for dtype in ('float8_e4m3fn', 'float8_e5m2', 'float8_e8m0fnu', 'uint16', 'uint32', 'uint64'):
        if not hasattr(torch, dtype):
            setattr(torch, dtype, torch.float16)
    for _ in range(400):
        try:
            return importlib.import_module('megatron.training.arguments')
        except (ImportError, AttributeError) as e:
            for name in [n for n in sys.modules if n == 'megatron' or n.startswith('megatron.')]:
                del sys.modules[name]
            text = str(e)
            m = re.match(r"No module named '([\w.]+)'", text)
            if m and not m.group(1).startswith('megatron'):
                fake_module(m.group(1))
                finder.roots.add(m.group(1))
                continue
            m = re.match(r"cannot import name '(\w+)' from '([\w.]+)'", text)
            if m and not m.group(2).startswith('megatron'):
                setattr(importlib.import_module(m.group(2)), m.group(1), mock.MagicMock(name=m.group(1)))
                continue
            m = re.match(r"module '([\w.]+)' has no attribute '(\w+)'", text)
            if m and not m.group(1).startswith('megatron'):
                setattr(sys.modules[m.group(1)], m.group(2), mock.MagicMock(name=m.group(2)))
                continue
            raise
    raise RuntimeError('could not import megatron.training.arguments')


def capture_parser(arguments):
    def hand_back(self, *a, **k):
        raise Captured(self)

    argparse.ArgumentParser.parse_args = hand_back
    argparse.ArgumentParser.parse_known_args = hand_back
    sys.argv = ['pretrain_gpt.py']
    try:
        arguments.parse_args()
    except Captured as c:
        return c.parser
    raise RuntimeError('parse_args returned without parsing')


ACTION_KINDS = {
    argparse._StoreAction: 'store', argparse._StoreTrueAction: 'store_true',
    argparse._StoreFalseAction: 'store_false', argparse._StoreConstAction: 'store_const',
    argparse._AppendAction: 'append', argparse._AppendConstAction: 'append_const',
    argparse._CountAction: 'count', argparse._HelpAction: 'help', argparse._VersionAction: 'version',
}


def plain(value):
    """A JSON value: JSON types as they are, enums by name, anything else as its str()."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return str(value)


def type_name(t):
    if t is None:
        return None
    if t in (int, float, str):
        return t.__name__
    return getattr(t, '__name__', type(t).__name__)


def describe(action):
    kind = ACTION_KINDS.get(type(action), type(action).__name__)
    return {
        'option_strings': list(action.option_strings),
        'dest': action.dest,
        'action': kind,
        'type': type_name(action.type),
        'nargs': action.nargs,
        'choices': None if action.choices is None else [plain(c) for c in action.choices],
        'default': plain(action.default),
    }


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    arguments = import_arguments(os.path.abspath(sys.argv[1]))
    parser = capture_parser(arguments)
    options = [describe(a) for a in parser._actions if a.option_strings]
    options.sort(key=lambda o: o['option_strings'][0])
    print(json.dumps({
        'source': 'NVIDIA/Megatron-LM megatron/training/arguments.py parse_args (the parser it builds)',
        'commit': os.environ.get('MEGATRON_COMMIT', 'unknown'),
        'generated_by': 'scripts/megatron-args-snapshot.py',
        'options': options,
    }, indent=1))


if __name__ == '__main__':
    main()
