"""The engine stands alone: importing it pulls in no Django."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_importing_the_engine_does_not_import_django():
    code = "import sys, matching.engine, matching.engine.cli; assert 'django' not in sys.modules, 'django was imported'"
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


def test_the_engine_sources_import_no_django():
    imports = re.compile(r"^\s*(import|from)\s+django\b", re.M)
    for path in (ROOT / "matching" / "engine").glob("*.py"):
        assert not imports.search(path.read_text()), path
