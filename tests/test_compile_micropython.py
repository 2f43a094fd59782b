"""The firmware's show reader under real MicroPython (the WebAssembly build, 192 KB heap).

Compiled shows are read by `tests/firmware_props/show_dump.py` under CPython and under
MicroPython; both must report exactly the same. The MicroPython run also measures what the
reader keeps on the heap and what each read_cue / read_look allocates, for a 1,000-cue,
512-parameter show: the streaming design's promise.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
from cuenode.build import compiler, showbin
from cuenode.show.model import (
    Button,
    Cue,
    Fixture,
    FixtureType,
    Node,
    ParamDef,
    Relay,
    RelayAction,
    Show,
)

ROOT = Path(__file__).resolve().parent.parent
MP_MODULE = (
    ROOT
    / "tools/mp-wasm/node_modules/@micropython/micropython-webassembly-pyscript"
    / "micropython.mjs"
)
NODE = Path(sys.executable).parent / "node"
DUMP = Path(__file__).parent / "firmware_props" / "show_dump.py"
CUEFW = ROOT / "firmware" / "cuefw"

RUNNER = """
import { loadMicroPython } from %(module)s;
import { readFileSync } from "node:fs";
let out = "";
const mp = await loadMicroPython({ heapsize: 192 * 1024,
  stdout: (l) => { out += l + "\\n"; }, stderr: (l) => { out += l + "\\n"; } });
mp.FS.mkdir("/lib"); mp.FS.mkdir("/lib/cuefw");
for (const [dest, src] of %(files)s) mp.FS.writeFile(dest, readFileSync(src));
await mp.runPythonAsync(`
try:
    import show_dump
    show_dump.main("/show.cnshow", %(full)s, %(look_every)d)
except Exception as exc:
    import sys
    print("PYTHON-ERROR")
    sys.print_exception(exc)
`);
process.stdout.write(out);
"""

pytestmark = pytest.mark.micropython


@pytest.fixture(autouse=True)
def _micropython_installed() -> None:
    # A missing MicroPython build is a set-up step, not a reason to skip: fail with the remedy.
    if not MP_MODULE.exists():
        pytest.fail("the MicroPython WebAssembly build is not installed: run `python3 dev.py test`")


def micropython_dump(blob: bytes, tmp_path: Path, full: bool = True, look_every: int = 1) -> dict:
    show = tmp_path / "show.cnshow"
    show.write_bytes(blob)
    files = [(f"/lib/cuefw/{p.name}", str(p)) for p in sorted(CUEFW.glob("*.py"))]
    files += [("/lib/show_dump.py", str(DUMP)), ("/show.cnshow", str(show))]
    script = tmp_path / "run.mjs"
    script.write_text(
        RUNNER
        % {
            "module": json.dumps(MP_MODULE.as_uri()),
            "files": json.dumps(files),
            "full": "True" if full else "False",
            "look_every": look_every,
        }
    )
    proc = subprocess.run([str(NODE), str(script)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "PYTHON-ERROR" not in proc.stdout, proc.stdout + proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def cpython_dump(blob: bytes, tmp_path: Path, full: bool = True, look_every: int = 1) -> dict:
    sys.path.insert(0, str(DUMP.parent))
    try:
        import show_dump
    finally:
        sys.path.remove(str(DUMP.parent))
    path = tmp_path / "cpython.cnshow"
    path.write_bytes(blob)
    return show_dump.dump(str(path), full, look_every)


def mixed_show(seed: int) -> Show:
    """Two nodes, 8- and 16-bit parameters, relays, buttons, unicode labels, 300 cues, cues
    that change more than one read block (64) of parameters and looks of > 128 values."""
    rnd = random.Random(seed)
    ftype = FixtureType(
        "spot",
        (ParamDef("dim", 0), ParamDef("pan", 1, 2, 0x8000), ParamDef("tilt", 3, 4, 0x8000)),
        5,
    )
    fixtures = {
        f"spot{i}": Fixture(f"spot{i}", ftype, 1 + 5 * (i % 50), "a" if i < 50 else "b")
        for i in range(80)
    }
    relays = {
        "fog": Relay("fog", "a", "R1", max_on_ms=10_000, min_off_ms=5000, hazard=True),
        "haze": Relay("haze", "a", "R2", duty_pct=30, requires_arm=True),
        "strobe": Relay("strobe", "b", "R1"),
    }
    keys = sorted((f, p.name) for f in fixtures for p in ftype.params)
    cues = []
    for i in range(300):
        chosen = rnd.sample(keys, rnd.choice([0, 3, 20, 100, 200]))
        levels = {k: rnd.randrange(0x10000 if k[1] != "dim" else 0x100) for k in chosen}
        acts = tuple(RelayAction(r, "pulse", 2000) for r in rnd.sample(sorted(relays), 1))
        cues.append(
            Cue(1000 * (i + 1), f"cue {i} — ñ", levels, up_ms=i, follow_ms=i or None, relays=acts)
        )
    buttons = (
        Button("a", "B1", "go"),
        Button("a", "B2", "fire", cue=150_000),
        Button("b", "B1", "stop"),
    )
    nodes = {
        "a": Node("a", "pico", tuple(f for f in fixtures if fixtures[f].node == "a")),
        "b": Node("b", "pico", tuple(f for f in fixtures if fixtures[f].node == "b"), "blackout"),
    }
    return Show("mixed ✓", 1, fixtures, nodes, relays, buttons, tuple(cues))


def test_micropython_reads_every_field_exactly_as_cpython(tmp_path: Path) -> None:
    for node_id, blob in compiler.compile_show(mixed_show(1)).items():
        on_cpython = cpython_dump(blob, tmp_path)
        on_micropython = micropython_dump(blob, tmp_path)
        assert on_cpython["verify"] is True, node_id
        assert on_cpython["header"][3] == 300
        for key in ("verify", "header", "params", "relays", "buttons", "cues", "looks", "found"):
            assert on_micropython[key] == on_cpython[key], (node_id, key)


def big_node_show(n_cues: int = 1000, n_params: int = 512) -> showbin.NodeShow:
    rnd = random.Random(7)
    cues = []
    for i in range(n_cues):
        changed = sorted(rnd.sample(range(n_params), rnd.choice([1, 10, 100, n_params])))
        cues.append(
            showbin.CueRec(
                1000 * (i + 1), f"cue {i}", changes=tuple((p, rnd.randrange(256)) for p in changed)
            )
        )
    return showbin.NodeShow(
        "n1", "big", tuple((s, 0) for s in range(1, n_params + 1)), (0,) * n_params, tuple(cues)
    )


def test_a_1000_cue_512_slot_show_streams_in_little_ram(tmp_path: Path) -> None:
    blob = showbin.encode(big_node_show())
    # Every cue and every cue's full look (keyframe + up to 15 replayed cues) is read.
    mp = micropython_dump(blob, tmp_path, full=False, look_every=1)
    cp = cpython_dump(blob, tmp_path, full=False, look_every=1)
    assert (mp["verify"], mp["cues"], mp["looks"]) == (True, cp["cues"], cp["looks"])
    # The reader, one 512-change Cue and one look: a few KB, not the ~600 KB file. Format 2
    # (cue parts, effects) adds ~450 B for the reader's and the Cue's new fields, and the
    # reader holds the chosen replay loop of cuefw.loops: 8.6-9.0 KB measured.
    assert mp["kept"] < 10 * 1024, mp["kept"]
    # A GO reads a cue with no per-change allocation (a few small tuples/memoryviews only).
    assert mp["alloc_read_cue"] < 512, mp["alloc_read_cue"]
    assert mp["alloc_read_look"] < 4096, mp["alloc_read_look"]
    print(
        f"\nMicroPython: file {len(blob)} B, reader kept {mp['kept']} B, read_cue allocates "
        f"<= {mp['alloc_read_cue']} B, read_look <= {mp['alloc_read_look']} B"
    )
