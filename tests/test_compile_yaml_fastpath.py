"""The libyaml fast path of show loading (added for bench/bench_compile.py) builds exactly the
tree the round-trip loader builds, marks included, or steps aside for the round-trip loader."""

from __future__ import annotations

from pathlib import Path

import pytest
from cuenode import show_yaml
from cuenode.paths import EXAMPLES_DIR

ROOT = Path(__file__).resolve().parent
ALL = sorted((ROOT / "corpus").rglob("*.yaml")) + sorted(EXAMPLES_DIR.rglob("*.yaml"))


def utf8(path: Path) -> bool:
    try:
        show_yaml.read_text(path)
    except UnicodeDecodeError:  # reported before any YAML loading: nothing to compare
        return False
    return True


FILES = [p for p in ALL if utf8(p)]


def round_trip_tree(text: str, path: str) -> show_yaml.YNode | None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(show_yaml, "_load_fast", lambda text, path: None)
        return show_yaml.load_yaml(text, path)[0]


def assert_same(fast: show_yaml.YNode, slow: show_yaml.YNode) -> None:
    assert (fast.path, fast.mark, fast.key_mark) == (slow.path, slow.mark, slow.key_mark)
    assert fast.value == slow.value and type(fast.value) is type(slow.value), fast.path
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


def test_the_fast_path_is_in_use() -> None:
    assert len(FILES) >= len(ALL) - 2 and len(FILES) > 90
    assert show_yaml._load_fast("a: 1\n", "x.yaml") is not None, "install ruamel.yaml.clib"


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(ROOT.parent)) for p in FILES])
def test_fast_tree_equals_round_trip_tree(path: Path) -> None:
    text = show_yaml.read_text(path)
    fast = show_yaml._load_fast(text, str(path))
    slow = round_trip_tree(text, str(path))
    if fast is None:  # anything unusual: load_yaml uses the round-trip loader alone
        return
    assert slow is not None
    assert_same(fast, slow)


@pytest.mark.parametrize(
    "text",
    ["a: 1\na: 2\n", "a: [1,\n", "<<: {a: 1}\n", "a: !custom x\n", "a: 1\n---\nb: 2\n"],
)
def test_unusual_text_goes_to_the_round_trip_loader(text: str) -> None:
    assert show_yaml._load_fast(text, "x.yaml") is None
