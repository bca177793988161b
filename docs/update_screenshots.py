"""Refresh the screenshots in ``docs/img/`` from the UI's browser tests.

The tests always save their screenshots under pytest's ``tmp_path`` (as test artifacts);
with ``RUNLAB_UI_SCREENSHOTS`` set they also copy them there. This script sets it to
``docs/img`` and runs only those tests, so a normal test run never touches the tree.

Usage (from the repository root, with chromium installed)::

    python docs/update_screenshots.py
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    target = REPO / "docs" / "img"
    env = {**os.environ, "RUNLAB_UI_SCREENSHOTS": str(target)}
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/ui/test_browser.py"]
    result = subprocess.run(argv, cwd=REPO, env=env, check=False)
    if result.returncode == 0:
        print(f"screenshots in {target}: {', '.join(sorted(p.name for p in target.glob('*.png')))}")
    return result.returncode


if __name__ == "__main__":
    raise SystemExit(main())
