"""The shape of the code base: one-way layers (import-linter's contracts in pyproject.toml) and
modules, functions and commands small enough to read (README, "Layout")."""
import ast
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support import PYTHON, ROOT

PACKAGES = ("ask", "orders", "accounts")
MODULE_LINES, FUNCTION_LINES, COMMAND_LINES = 400, 60, 20


def _lint_imports(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(Path(PYTHON).parent / "lint-imports"), "--no-cache"], cwd=root,
                          capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(root), "PATH": "/usr/bin"})


def _sources():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def test_the_layer_contracts_hold():
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout


@pytest.mark.parametrize("offender, imported", [
    ("ask/core/caching.py", "orders.models"),  # the machinery must not know an app
    ("ask/jobs/runner.py", "ask.core.outbox"),  # the job framework is the bottom layer
    ("accounts/models.py", "ask.qa.models"),  # accounts is below the Q&A app
    ("orders/services.py", "ask.stats.models"),  # nothing imports the statistics
])
def test_an_import_against_the_layers_breaks_the_contracts(tmp_path, offender, imported):
    """The same check on a copy of the code with one import added in the wrong direction."""
    copy = tmp_path / "tree"
    copy.mkdir()
    shutil.copy(ROOT / "pyproject.toml", copy)
    for package in PACKAGES:
        shutil.copytree(ROOT / package, copy / package, ignore=shutil.ignore_patterns("__pycache__"))
    with (copy / offender).open("a") as source:
        source.write(f"\nimport {imported}  # noqa\n")
    result = _lint_imports(copy)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout and offender.split("/")[0] in result.stdout


def test_no_module_is_over_400_lines():
    long = {str(p.relative_to(ROOT)): n for p in _sources() if (n := len(p.read_text().splitlines())) > MODULE_LINES}
    assert not long


def _functions(path: Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node, node.end_lineno - node.lineno + 1


def test_no_function_is_over_60_lines_and_no_command_body_over_20():
    too_long = []
    for path in _sources():
        is_command = "commands" in path.parts
        for node, lines in _functions(path):
            limit = COMMAND_LINES if is_command and node.name in ("handle", "run") else FUNCTION_LINES
            if lines > limit:
                too_long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}() is {lines} lines (> {limit})")
    assert not too_long
