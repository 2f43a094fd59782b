"""No function in the firmware is longer than 60 lines (the style guide aims at ~40).

Counted from `def` to the function's last line, docstring and comments included. The host
package has its own offenders today (see the lead's issue 9); add "host" to ROOTS once they
are split."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROOTS = ("firmware",)
LIMIT = 60


def long_functions(root: Path, limit: int = LIMIT) -> list[str]:
    """'path:line name: length' of every function in root/**.py longer than `limit` lines."""
    found = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                if length > limit:
                    found.append(f"{path.relative_to(root)}:{node.lineno} {node.name}: {length}")
    return found


def test_no_firmware_function_is_longer_than_60_lines() -> None:
    for name in ROOTS:
        assert long_functions(ROOT / name) == [], f"split these functions in {name}/"


def test_the_check_sees_a_long_function(tmp_path: Path) -> None:
    body = "\n".join(f"    x{k} = {k}" for k in range(LIMIT))
    (tmp_path / "long.py").write_text(f"def long():\n{body}\n")
    (tmp_path / "short.py").write_text("def short():\n    return 1\n")
    assert long_functions(tmp_path) == [f"long.py:1 long: {LIMIT + 1}"]
