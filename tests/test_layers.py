"""The layers hold: imports run one way (server.py → routes and pages →
runtime → adapters → core), ``live`` never imports ``overlays`` or ``stats``,
nothing imports ``server``, and every module under ``live/core`` is pure: no
I/O library, no clock, no global random (time and randomness are parameters).

The checks read every module's source (``ast``), so a new module is checked
without anyone adding it to a list.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("live", "overlays", "stats", "scripts")

# What each layer may import from the project (its own layer included).
LAYERS: dict[str, tuple[str, ...]] = {
    "live.core": ("live.core",),
    "live.adapters": ("live.core", "live.adapters"),
    "live.runtime": ("live.core", "live.adapters", "live.runtime"),
    "live.http": ("live.core", "live.adapters", "live.runtime", "live.http", "live.settings"),
    "live.settings": ("live.core",),
    "overlays": ("live", "overlays"),
    "stats": ("live", "stats"),
    # the benchmarks drive the whole app in process, as the tests do (the app is made in server.py)
    "scripts.bench": ("live", "overlays", "stats", "scripts", "server"),
    "scripts": ("live", "overlays", "stats", "scripts"),
}
PROJECT = ("live", "overlays", "stats", "scripts", "server")
# Outside the standard library, the core may use numpy and nothing else.
CORE_THIRD_PARTY = {"numpy"}

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
    r"np\.random",
)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    found = {module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))}
    found["server"] = ROOT / "server.py"
    return found


def imports_of(source: str, module: str) -> set[str]:
    """Every module a source imports, at any depth (functions, TYPE_CHECKING blocks)."""
    out: set[str] = set()
    package = module if module.count(".") == 0 else module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            out.add(base)
            out.update(f"{base}.{alias.name}" for alias in node.names)  # from live.core import values
    return out


def layer_of(module: str) -> str | None:
    for layer in sorted(LAYERS, key=len, reverse=True):
        if module == layer or module.startswith(layer + "."):
            return layer
    return None


def violations(module: str, source: str) -> list[str]:
    """The imports of ``module`` its layer does not allow."""
    layer = layer_of(module)
    if layer is None:  # server.py and the bare package roots
        return [f"{module} imports server"] * any(i == "server" for i in imports_of(source, module))
    allowed = LAYERS[layer]
    bad = []
    for name in imports_of(source, module):
        if name.split(".")[0] not in PROJECT:
            if layer == "live.core":
                top = name.split(".")[0]
                if top and top not in sys.stdlib_module_names and top not in CORE_THIRD_PARTY:
                    bad.append(f"{module} (core) imports {name}")
            continue
        known = project_modules()
        if name not in known and name.rsplit(".", 1)[0] in known:
            continue  # ``from live.core.values import parse_json``: the module part is checked
        if not any(name == a or name.startswith(a + ".") for a in allowed):
            bad.append(f"{module} ({layer}) imports {name}")
    return bad


def test_every_import_runs_down_the_layers() -> None:
    found = []
    for module, path in project_modules().items():
        found += violations(module, path.read_text(encoding="utf-8"))
    assert found == []


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("live.core.show", "from live.adapters.journal import Journal"),
        ("live.core.show", "import sqlalchemy"),
        ("live.core.show", "def f():\n    from starlette.requests import Request"),
        ("live.adapters.journal", "from live.runtime import engine"),
        ("live.runtime.engine", "from live.http.web import hub"),
        ("live.http.api", "from overlays.pages import routes"),
        ("live.http.api", "from stats import series"),
        ("overlays.pages", "import server"),
        ("stats.review", "from overlays import pages"),
    ],
)
def test_the_layer_check_notices_an_import_against_the_grain(module: str, source: str) -> None:
    assert violations(module, source) != []


def test_the_layer_check_lets_the_grain_through() -> None:
    assert violations("live.http.api", "from live.runtime.engine import ShowEngine\nimport starlette") == []
    assert violations("overlays.pages", "from live.http.panel import render") == []
    assert violations("live.core.show", "import json\nfrom live.core import values as v") == []


CORE = sorted(m for m in project_modules() if m.startswith("live.core"))


def test_every_core_module_imports_without_an_io_library() -> None:
    # A fresh interpreter: in this one other tests have imported starlette & co.
    script = (
        "import importlib, json, sys\n"
        f"for name in {CORE!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr
    top_level = {m.split(".")[0] for m in json.loads(done.stdout)}
    assert sorted(top_level & {"starlette", "sqlalchemy", "redis", "jinja2", "uvicorn", "websockets", "asyncpg",
                               "aiosqlite", "httpx", "overlays", "stats", "server"}) == []


@pytest.mark.parametrize("module", CORE)
def test_core_module_reads_no_clock_and_no_global_random(module: str) -> None:
    text = project_modules()[module].read_text(encoding="utf-8")
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
        r"np\.random": "rng = np.random.default_rng()",
    }
    assert re.search(pattern, samples[pattern], re.MULTILINE)
