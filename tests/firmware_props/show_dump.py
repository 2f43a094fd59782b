# Reads a compiled show with cuefw.showfile and prints everything the reader returns as one JSON
# line. Runs unchanged under CPython and MicroPython, so the two interpreters' outputs can be
# compared byte for byte (tests/test_compile_micropython.py). Also measures, where `gc` can,
# how much the reader keeps and allocates (MicroPython: gc.mem_alloc; CPython reports 0).
import gc
import hashlib
import json
from array import array

from cuefw import showfile as sf


def _mem():
    gc.collect()
    return gc.mem_alloc() if hasattr(gc, "mem_alloc") else 0


def _alloc_during(fn, *args):
    """Bytes allocated on the heap while fn runs (GC off, so nothing is freed meanwhile)."""
    if not hasattr(gc, "mem_alloc"):
        fn(*args)
        return 0
    gc.collect()
    gc.disable()
    before = gc.mem_alloc()
    fn(*args)
    used = gc.mem_alloc() - before
    gc.enable()
    return used


def header(r):
    return [
        r.node_id,
        r.show_name,
        r.n_params,
        r.n_cues,
        r.n_relays,
        r.n_buttons,
        r.fault_mode,
        r.go_protect_ms,
        r.stop_fade_ms,
        r.keyframe_every,
        r.max_changes,
        r.max_actions,
    ]


def cue_fields(r, cue):
    return [
        cue.number,
        r.string(cue.label_ref),
        cue.up_ms,
        cue.down_ms,
        cue.delay_ms,
        cue.auto_mode,
        cue.auto_ms,
        cue.curve,
        [[cue.param(k), cue.value(k)] for k in range(cue.n_changes)],
        [[cue.action_relay[k], cue.action_kind[k], cue.action_ms[k]] for k in range(cue.n_actions)],
    ]


class Digest:
    """Stands in for a list when the full dump would be too big: hashes what is appended."""

    def __init__(self):
        self.h = hashlib.sha256()

    def append(self, item):
        self.h.update(item)  # an array("H") look

    def add_cue(self, r, cue):
        n, m = cue.n_changes, cue.n_actions
        self.h.update(
            array(
                "I",
                [
                    cue.number,
                    cue.up_ms,
                    cue.down_ms,
                    cue.delay_ms,
                    cue.auto_mode,
                    cue.auto_ms,
                    cue.curve,
                    n,
                    m,
                ],
            )
        )
        self.h.update(r.string(cue.label_ref).encode())
        self.h.update(memoryview(cue.changes)[: 2 * n])  # param, value, param, value...
        self.h.update(memoryview(cue.action_relay)[:m])
        self.h.update(memoryview(cue.action_kind)[:m])
        self.h.update(memoryview(cue.action_ms)[:m])

    def hex(self):
        return "".join(f"{b:02x}" for b in self.h.digest())


def dump(path, full=True, look_every=1):
    with open(path, "rb") as f:
        return _dump(f, full, look_every)


def _dump(f, full, look_every):
    ok = sf.verify(f, hashlib.sha256)
    base = _mem()
    r = sf.ShowReader(f)
    cue = sf.Cue(r.max_changes, r.max_actions, getattr(r, "max_parts", 0))
    look = array("H", bytes(2 * max(1, r.n_params)))
    kept = _mem() - base  # reader + one Cue + one look: what a running node holds
    out = {
        "verify": ok,
        "header": header(r),
        "kept": kept,
        "params": [list(r.param(i)) for i in range(r.n_params)],
        "relays": [list(r.relay(i)) for i in range(r.n_relays)],
        "buttons": [list(r.button(i)) for i in range(r.n_buttons)],
        "cues": [] if full else Digest(),
        "looks": [] if full else Digest(),
        "found": [],
    }
    r.read_look(-1, look)
    out["looks"].append(list(look) if full else look)
    worst_cue = worst_look = 0
    for i in range(r.n_cues):
        worst_cue = max(worst_cue, _alloc_during(r.read_cue, i, cue))
        if full:
            out["cues"].append(cue_fields(r, cue))
        else:
            out["cues"].add_cue(r, cue)
        if i % look_every == 0 or i == r.n_cues - 1:
            worst_look = max(worst_look, _alloc_during(r.read_look, i, look))
            out["looks"].append(list(look) if full else look)
        out["found"].append(r.find_cue(cue.number))
    if not full:
        out["cues"], out["looks"] = out["cues"].hex(), out["looks"].hex()
    out["alloc_read_cue"] = worst_cue
    out["alloc_read_look"] = worst_look
    return out


def main(path, full=True, look_every=1):
    print(json.dumps(dump(path, full, look_every)))
