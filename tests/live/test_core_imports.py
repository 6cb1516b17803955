"""The pure core stays pure: it imports no I/O library, reads no clock and uses
no global random state (time and randomness are parameters)."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORE = (
    "live.values",
    "live.show",
    "live.rundown",
    "live.commands",
    "live.audience",
    "live.ledger",
    "live.flash_sales",
    "live.lucky_draws",
    "live.sales",
    "live.draws",
    "live.context",
    "live.compliance",
    "live.csvplan",
    "live.auth",
    "live.errors",
    "overlays.protocol",
)
IO_LIBRARIES = (
    "starlette",
    "sqlalchemy",
    "redis",
    "jinja2",
    "uvicorn",
    "websockets",
    "asyncpg",
    "aiosqlite",
    "httpx",
)
# A clock read, global randomness or ambient I/O in the core.
FORBIDDEN_SOURCE = (
    r"time\.time\(",
    r"time\.monotonic\(",
    r"time\.perf_counter\(",
    r"datetime\.now\(",
    r"datetime\.utcnow\(",
    r"date\.today\(",
    r"^\s*import random\b",
    r"^\s*from random import",
    r"^\s*import secrets\b",
    r"^\s*from secrets import",
    r"^\s*import uuid\b",
    r"os\.environ",
    r"\bopen\(",
)


def test_core_modules_import_no_io_library() -> None:
    # A fresh interpreter: in this one other tests have imported starlette & co.
    script = (
        "import importlib, json, sys\n"
        f"for name in {list(CORE)!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    modules = set(json.loads(done.stdout))
    assert set(CORE) <= modules
    top_level = {m.split(".")[0] for m in modules}
    assert sorted(top_level & set(IO_LIBRARIES)) == []
    assert "server" not in top_level


def test_the_import_check_would_notice_an_io_import() -> None:
    # Guard against a check that cannot fail: the same probe sees starlette when it is imported.
    script = "import sys, starlette.responses; print('starlette' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.stdout.strip() == "True", done.stderr


def source(module: str) -> str:
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None, module
    return Path(spec.origin).read_text(encoding="utf-8")


@pytest.mark.parametrize("module", CORE)
def test_core_module_reads_no_clock_and_no_global_random(module: str) -> None:
    text = source(module)
    hits = [pattern for pattern in FORBIDDEN_SOURCE if re.search(pattern, text, re.MULTILINE)]
    assert hits == [], f"{module} uses {hits}"


@pytest.mark.parametrize("pattern", FORBIDDEN_SOURCE)
def test_forbidden_patterns_match_what_they_mean_to(pattern: str) -> None:
    samples = {
        r"time\.time\(": "now = time.time()",
        r"time\.monotonic\(": "t = time.monotonic()",
        r"time\.perf_counter\(": "t = time.perf_counter()",
        r"datetime\.now\(": "d = datetime.now(tz)",
        r"datetime\.utcnow\(": "d = datetime.utcnow()",
        r"date\.today\(": "d = date.today()",
        r"^\s*import random\b": "x = 1\nimport random\n",
        r"^\s*from random import": "from random import choice",
        r"^\s*import secrets\b": "import secrets",
        r"^\s*from secrets import": "from secrets import token_hex",
        r"^\s*import uuid\b": "import uuid",
        r"os\.environ": "os.environ.get('X')",
        r"\bopen\(": "with open(path) as f:",
    }
    assert re.search(pattern, samples[pattern], re.MULTILINE)
