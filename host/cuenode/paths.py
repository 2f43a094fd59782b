"""Where the repository's data lives, for an editable install (the supported way to run)."""

from __future__ import annotations

from pathlib import Path

import cuefw

FIRMWARE_DIR = Path(cuefw.__file__).resolve().parent.parent
REPO_ROOT = FIRMWARE_DIR.parent
BOARDS_DIR = REPO_ROOT / "boards"
EXAMPLES_DIR = REPO_ROOT / "examples"
