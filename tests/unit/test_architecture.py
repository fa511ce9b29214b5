"""The science packages never import io/, report/, conduct/, the CLI or a plotting library."""

import ast
from pathlib import Path

import adcbridge

ROOT = Path(adcbridge.__file__).parent
SCIENCE = ["dosefinding", "nca", "assays", "pk", "translation"]
FORBIDDEN = ("adcbridge.io", "adcbridge.report", "adcbridge.conduct", "adcbridge.cli", "matplotlib", "plotly",
             "jinja2", "typer")


def _imports(path: Path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:            # relative import: resolve against the package
                parts = path.relative_to(ROOT.parent).with_suffix("").parts[:-node.level]
                yield ".".join(parts + ((node.module,) if node.module else ()))
            else:
                yield node.module or ""


def test_science_does_not_import_io_report_or_plotting():
    offenders = []
    for pkg in SCIENCE:
        for path in (ROOT / pkg).rglob("*.py"):
            for name in _imports(path):
                if name.startswith(FORBIDDEN):
                    offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not offenders, offenders


def test_science_does_not_print_or_open_files():
    offenders = []
    for pkg in SCIENCE:
        for path in (ROOT / pkg).rglob("*.py"):
            tree = ast.parse(path.read_text())
            for node in ast.walk(tree):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("print", "open"):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} calls {node.func.id}()")
    assert not offenders, offenders
