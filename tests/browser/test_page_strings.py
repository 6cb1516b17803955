"""Every page string a script reads (``T.name``) exists in English and Chinese: a
missing one would print "undefined" on a panel or a stream."""

from __future__ import annotations

import re
from pathlib import Path

from live.core.i18n import EN, ZH

STATIC = Path(__file__).resolve().parents[2] / "static"


def test_every_string_the_scripts_read_exists_in_both_languages() -> None:
    used: dict[str, set[str]] = {}
    for script in sorted(STATIC.glob("*.js")):
        names = set(re.findall(r"\bT\.([A-Za-z_]\w*)", script.read_text(encoding="utf-8")))
        used[script.name] = names
    assert used["control.js"] and used["promotions.js"] and used["prompter.js"]
    missing = {name: sorted(k for k in keys if k not in EN or k not in ZH) for name, keys in used.items()}
    assert not any(missing.values()), missing
