"""Every action code a service writes has a label a coordinator reads in the audit trail."""

import re
from pathlib import Path

from audit.actions import ACTION_LABELS

ROOT = Path(__file__).resolve().parents[2]
# action="area.verb" as written by the services (f-strings with a {placeholder} are skipped).
CODE = re.compile(r'action="([a-z_]+\.[a-z_]+)"')


def test_every_action_written_has_a_label():
    written = {
        code
        for folder in ("accounts", "matching", "audit", "core")
        for path in (ROOT / folder).rglob("*.py")
        if "migrations" not in path.parts
        for code in CODE.findall(path.read_text(encoding="utf-8"))
    }
    assert written, "the pattern no longer finds the services' action codes"
    assert sorted(written - set(ACTION_LABELS)) == []
