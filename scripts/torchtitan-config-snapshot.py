"""Snapshot of torchtitan's job-file schema: every TOML section and key of JobConfig, with its type and default.

Usage: python3 scripts/torchtitan-config-snapshot.py TORCHTITAN_GIT_DIR [TAG] > data/upstream/torchtitan-v0.2.2.config.json

TORCHTITAN_GIT_DIR is a (bare) clone of pytorch/torchtitan; TAG defaults to v0.2.2, the release moefold's
torchtitan export targets (its last release with TOML job files). The file read is torchtitan/config/job_config.py
at that tag, through `git show`, parsed with Python's ast (nothing of torchtitan is imported, so neither torch
nor tyro is needed). JobConfig's fields are the sections ([job], [training], ...); a field whose type is another
dataclass of the file is a sub-table ([training.dataloader]). For each key: its annotation as written
(e.g. "int", "str | None", 'Literal["full", "none"]', "list[list[str]] | None") and its default when it is a
literal (else null). Any Python 3 with `ast.unparse` (3.9+) will do.

Dev-time only: test/export/torchtitan-config-snapshot.test.ts reads the checked-in JSON, never this script.
"""
import ast
import json
import subprocess
import sys

PATH = 'torchtitan/config/job_config.py'


def dataclasses_of(tree):
    """class name -> [(field, annotation text, default or None)] for every class with annotated fields."""
    out = {}
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        fields = []
        for stmt in node.body:
            if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                default = None
                if stmt.value is not None:
                    try:
                        default = ast.literal_eval(stmt.value)
                    except ValueError:
                        default = None
                fields.append((stmt.target.id, ast.unparse(stmt.annotation), default))
        out[node.name] = fields
    return out


def sections(classes, cls, prefix, out):
    """Flatten `cls` into out[section] = {key: {...}}, nested dataclasses as dotted sub-sections."""
    keys = {}
    for name, annotation, default in classes[cls]:
        if annotation in classes and classes[annotation]:
            sections(classes, annotation, f'{prefix}.{name}' if prefix else name, out)
        else:
            keys[name] = {'type': annotation, 'default': default}
    if prefix:
        out[prefix] = keys


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    git_dir = sys.argv[1]
    tag = sys.argv[2] if len(sys.argv) == 3 else 'v0.2.2'
    commit = subprocess.run(['git', '-C', git_dir, 'rev-parse', f'{tag}^{{commit}}'], check=True,
                            capture_output=True, text=True).stdout.strip()
    source = subprocess.run(['git', '-C', git_dir, 'show', f'{commit}:{PATH}'], check=True,
                            capture_output=True, text=True).stdout
    classes = dataclasses_of(ast.parse(source))
    out = {}
    sections(classes, 'JobConfig', '', out)
    print(json.dumps({
        'source': f'pytorch/torchtitan {PATH} (JobConfig and the dataclasses it holds)',
        'tag': tag,
        'commit': commit,
        'generated_by': 'scripts/torchtitan-config-snapshot.py',
        'sections': dict(sorted(out.items())),
    }, indent=1))


if __name__ == '__main__':
    main()
