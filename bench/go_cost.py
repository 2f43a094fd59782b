# Cost of the engine's commands (GO, GOTO/BACK with a full look, STOP) for big and small cues.
# Plain Python that runs on both runtimes: bench_go.py imports it under CPython and runs it as a
# script under MicroPython (tools/mp-wasm/runner.mjs --script bench/go_cost.py).
import hashlib
import json
import sys

sys.path.append("/repo/bench")  # MicroPython run: the runner puts the repository at /repo
from cuefw.engine import Engine  # noqa: E402
from cuefw.eventlog import EventLog  # noqa: E402
from cuefw.governor import RelayGovernor  # noqa: E402
from cuefw.showfile import ShowReader, verify  # noqa: E402
from cuefw.universe import Universe  # noqa: E402
from engine_frames import calibration_loop  # noqa: E402

REPEAT = 20


def _engine(data_dir, show):
    f = open(data_dir + "/" + show, "rb")  # noqa: SIM115 - streamed from, as on the node
    log = EventLog(64)
    engine = Engine(Universe(), RelayGovernor(4, log), log)
    engine.load(ShowReader(f), 0)
    return engine, f


def _best_ms(clock_ms, setup, action):
    """Best of REPEAT runs of action(t) (ms), each after setup(t)."""
    best = None
    t = 1000
    for _ in range(REPEAT):
        setup(t)
        start = clock_ms()
        action(t + 10)
        ms = clock_ms() - start
        best = ms if best is None or ms < best else best
        t += 100_000
    return best


def _loop_ms(clock_ms, engine, setup, index, kind):
    """Best time of one engine loop alone ("changes" of cue `index`, its full "look", or
    STOP's "black"), in the state `setup` leaves: the GO-path loops of cuefw/loops.py."""
    best = None
    t = 1000
    for _ in range(REPEAT):
        setup(t)
        cue = engine.reader.read_cue(index, engine.cue)
        engine._update_progress(t + 10)
        g = engine._group(t + 10, 0, cue.up_ms, cue.down_ms, cue.curve)
        if kind == "look":
            engine.reader.read_look(index, engine.look)
        start = clock_ms()
        _one_loop(engine, kind, cue, g)
        ms = clock_ms() - start
        best = ms if best is None or ms < best else best
        t += 100_000
    return best


def _one_loop(engine, kind, cue, g):
    if not hasattr(engine, "loops"):  # a baseline from before cuefw/loops.py
        if kind == "look":
            engine._retarget_look(engine.look, g)
        elif kind == "black":
            engine._all_to_black(g)
        else:
            engine._retarget_changes(cue.changes, cue.n_changes, g)
    elif kind == "look":
        engine.loops.retarget_look(engine, engine.look, g)
    elif kind == "black":
        engine.loops.all_to_black(engine, g)
    else:
        engine.loops.retarget_changes(engine, cue.changes, cue.n_changes, g)


def measure(data_dir, clock_ms):
    result = {"runtime": sys.implementation.name, "repeat": REPEAT}
    wide, f1 = _engine(data_dir, "wide.cnshow")  # 512 8-bit parameters, cues change all

    def ready_for_go(t):
        wide.goto(0, t)
        wide.tick(t + 5)

    result["go_512_changes"] = _best_ms(clock_ms, ready_for_go, wide.go)
    result["goto_full_look_512"] = _best_ms(clock_ms, ready_for_go, lambda t: wide.goto(1, t))
    result["back_full_look_512"] = _best_ms(
        clock_ms, lambda t: (ready_for_go(t), wide.go(t + 5)), wide.back
    )
    result["stop_512"] = _best_ms(clock_ms, ready_for_go, wide.stop)
    # the GO-path loops alone (cuefw/loops.py: what is native on the chips)

    def ready_for_back(t):
        ready_for_go(t)
        wide.go(t + 5)

    loop = _loop_ms
    result["go_512_changes:loop"] = loop(clock_ms, wide, ready_for_go, 1, "changes")
    result["goto_full_look_512:loop"] = loop(clock_ms, wide, ready_for_go, 1, "look")
    result["back_full_look_512:loop"] = loop(clock_ms, wide, ready_for_back, 0, "look")
    result["stop_512:loop"] = loop(clock_ms, wide, ready_for_go, 0, "black")
    tracking, f2 = _engine(data_dir, "tracking.cnshow")  # 8 parameters, 1 change per cue

    def ready_small(t):
        tracking.goto(20, t)
        tracking.tick(t + 5)

    result["go_1_change"] = _best_ms(clock_ms, ready_small, tracking.go)
    result["goto_full_look_8_replay_5"] = _best_ms(
        clock_ms, ready_small, lambda t: tracking.goto(37, t)
    )
    result["verify_wide"] = _best_ms(clock_ms, lambda t: None, lambda t: verify(f1, hashlib.sha256))
    f1.close()
    f2.close()
    loops = 100_000
    best = None
    for _ in range(3):  # the same calibration as bench_engine.py, for the RP2040 estimate
        start = clock_ms()
        calibration_loop(loops)
        ns = (clock_ms() - start) * 1e6 / loops
        best = ns if best is None or ns < best else best
    result["calibration_ns_per_iteration"] = best
    return result


if __name__ == "__main__":
    import mpharness  # MicroPython run by runner.mjs: a sub-millisecond clock from JavaScript

    print("@@BENCH " + json.dumps(measure("/repo/tests/firmware/data", mpharness.now_ms)))
