"""The committed firmware-test fixture shows match what make_data.py builds from showbin."""

from __future__ import annotations

import importlib.util
from pathlib import Path

MAKE_DATA = Path(__file__).resolve().parents[1] / "firmware" / "make_data.py"


def test_fixture_shows_are_up_to_date():
    spec = importlib.util.spec_from_file_location("make_data", MAKE_DATA)
    assert spec and spec.loader
    make_data = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_data)
    for name, blob in make_data.build().items():
        path = make_data.DATA / name
        assert path.exists(), f"{path} missing: run python tests/firmware/make_data.py"
        assert path.read_bytes() == blob, f"{path} is stale: run python tests/firmware/make_data.py"
