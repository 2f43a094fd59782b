"""dev.py, the front door of a fresh clone: quiet setup steps that stay loud on failure, and
Ctrl-C ends it with one line and exit status 130 (issue 11)."""

from __future__ import annotations

import importlib.util
import signal
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.timeout(120)


def load_dev():
    spec = importlib.util.spec_from_file_location("dev_script", REPO / "dev.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


NOISY = "import sys\nfor i in range(100): print('BuildBackendWarning', i, file=sys.stderr)\n"


def test_a_setup_step_is_quiet_unless_it_fails(capfd) -> None:
    dev = load_dev()
    dev.run_quiet([sys.executable, "-c", NOISY])
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    with pytest.raises(subprocess.CalledProcessError):
        dev.run_quiet([sys.executable, "-c", NOISY + "print('ERROR: no such package'); exit(1)"])
    out, err = capfd.readouterr()
    assert "ERROR: no such package" in err  # the real error stays visible


def test_ctrl_c_prints_one_line_and_exits_130() -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            str(REPO / "dev.py"),
            "test",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/test_repl_diagnosis.py",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    assert proc.stdout is not None
    for line in proc.stdout:  # setup done (stamps current: no install), pytest started
        if line.startswith("[dev] pytest"):
            break
    proc.send_signal(signal.SIGINT)  # what Ctrl-C sends to dev.py
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "Traceback" not in err and "Traceback" not in out
    assert err.strip().splitlines()[-1] == "[dev] interrupted"
