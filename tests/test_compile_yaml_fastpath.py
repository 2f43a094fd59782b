"""Show loading uses libyaml's C parser (ruamel.yaml.clib) for speed (bench/bench_compile.py);
the tree it builds, marks included, is exactly the one ruamel's pure-Python parser builds.

(Rewritten in the validate/compile merge: show_yaml now always composes with the safe loader,
C parser when installed, so the reference here is the same loader with `pure=True`.)
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cuenode.paths import EXAMPLES_DIR
from cuenode.show import yaml as show_yaml

ROOT = Path(__file__).resolve().parent
ALL = sorted((ROOT / "corpus").rglob("*.yaml")) + sorted(EXAMPLES_DIR.rglob("*.yaml"))


def utf8(path: Path) -> bool:
    try:
        show_yaml.read_text(path)
    except UnicodeDecodeError:  # reported before any YAML loading: nothing to compare
        return False
    return True


FILES = [p for p in ALL if utf8(p)]


def pure_tree(text: str, path: str) -> tuple[show_yaml.YNode | None, list]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(show_yaml, "_yaml", show_yaml.pure_python_yaml)
        return show_yaml.load_yaml(text, path)


def assert_same(fast: show_yaml.YNode, slow: show_yaml.YNode) -> None:
    assert (fast.path, fast.mark, fast.key_mark) == (slow.path, slow.mark, slow.key_mark)
    same = fast.value == slow.value or repr(fast.value) == repr(slow.value)  # nan != nan
    assert same and type(fast.value) is type(slow.value), fast.path
    assert type(fast.children) is type(slow.children), fast.path
    if isinstance(fast.children, dict):
        assert isinstance(slow.children, dict)
        assert list(fast.children) == list(slow.children), fast.path
        for key in fast.children:
            assert_same(fast.children[key], slow.children[key])
    elif isinstance(fast.children, list):
        assert isinstance(slow.children, list)
        assert len(fast.children) == len(slow.children), fast.path
        for a, b in zip(fast.children, slow.children, strict=True):
            assert_same(a, b)


def test_the_c_parser_is_in_use() -> None:
    assert len(FILES) >= len(ALL) - 2 and len(FILES) > 90
    assert show_yaml._yaml().Parser.__name__ == "CParser", "install ruamel.yaml.clib"


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(ROOT.parent)) for p in FILES])
def test_c_tree_equals_pure_python_tree(path: Path) -> None:
    text = show_yaml.read_text(path)
    fast, fast_problems = show_yaml.load_yaml(text, str(path))
    slow, slow_problems = pure_tree(text, str(path))
    assert (fast is None) == (slow is None)
    if fast is None or slow is None:  # a syntax error: both report one, maybe worded apart
        assert len(fast_problems) == len(slow_problems) == 1
        return
    assert fast_problems == slow_problems  # duplicate keys
    assert_same(fast, slow)
