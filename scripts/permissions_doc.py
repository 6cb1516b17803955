"""Write docs/permissions.md from the permissions each feature declares
(``FEATURE`` in live/core/*.py, gathered in ``live.core.commands.PERMISSIONS``).

    python -m scripts.permissions_doc           # (re)write the doc
    python -m scripts.permissions_doc --check   # exit 1 when the doc is out of date

The declarations in code are the single source; a test runs the check.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from live.core.auth import READERS, REVIEW, ROLES, WINNERS
from live.core.commands import PERMISSIONS, SETUP_COMMANDS

DOC = Path(__file__).resolve().parent.parent / "docs" / "permissions.md"

# How each set-up command reaches the server (each has its own PUT).
ENDPOINT = {kind: f"`PUT /api/shows/{{id}}/{kind.split('.')[0]}`" for kind in SETUP_COMMANDS}
ENDPOINT["orders.import"] = "`POST /api/shows/{id}/orders.csv`"
ENDPOINT["platform.interactions"] = "`POST /api/shows/{id}/interactions`"


def render() -> str:
    """The whole Markdown document, generated from the declarations; returns text."""
    lines = [
        "# Permissions",
        "",
        ("<!-- Generated from the features' declarations (live/core/*.py, FEATURE) by"
         " `python -m scripts.permissions_doc`; do not edit by hand. -->"),
        "",
        "Who may send each command. Staff tokens belong to one show; the admin",
        "token acts on every show. A refused command gets `403 FORBIDDEN` and",
        "writes nothing. `tests/test_rbac.py` checks every cell over HTTP.",
        "",
        "| command | sent with | " + " | ".join(ROLES) + " |",
        "|---|---|" + "---|" * len(ROLES),
    ]
    for command in PERMISSIONS:
        via = ENDPOINT.get(command, "`POST /api/shows/{id}/commands` or a socket `command`")
        cells = " | ".join("yes" if role in PERMISSIONS[command] else "—" for role in ROLES)
        lines.append(f"| `{command}` | {via} | {cells} |")
    readers = ", ".join(r for r in ROLES if r in READERS)
    reviewers = ", ".join(r for r in ROLES if r in REVIEW)
    lines += [
        "",
        "Besides the commands:",
        "",
        (f"- Reading a show and its state (`GET /api/shows/{{id}}`, `GET …/state`, the socket's staff view), and"
         f" its overlay URLs (`GET /api/shows/{{id}}/overlay-urls`): {readers}."),
        (f"- The review (`GET /api/shows/{{id}}/review`, `…/review.csv`, the page `/shows/{{id}}/review`): "
         f"{reviewers}. Every staff socket gets `stats.tick`."),
        (f"- A drawn draw's winners by full nickname and viewer id (`GET …/draws/{{draw_id}}/winners.csv`): "
         f"{', '.join(r for r in ROLES if r in WINNERS)}."),
        "- Creating shows (`POST /api/shows`) and adding staff (`POST /api/shows/{id}/staff`): admin only.",
        "- A show's webhook secret (in `POST /api/shows`' answer, `GET /api/shows/{id}`, and rotated with",
        "  `POST /api/shows/{id}/webhook-secret`): admin only; other staff never see it.",
        "- The shop's webhooks (`POST /api/shows/{id}/orders`, `/returns`) need no token: they are signed with the",
        "  show's webhook secret (`X-Live-Signature`). Tracked links (`GET /go/{id}/{sku}`) are for anyone.",
        "- The overlay key reads the public state (`GET …/state?key=`, socket `hello` with `overlay_key`) and grants",
        "  nothing else: no talking points, no compliance warnings, no commands.",
        "- Browser sessions (from a one-time login link) have the role of the staff member the link was made for;",
        "  their state-changing requests must come from an allowed Origin (`403 BAD_ORIGIN` otherwise).",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Writes the doc, or with ``--check`` compares it; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/permissions.md is out of date")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
        if current != text:
            print(f"{DOC} is out of date; run: python -m scripts.permissions_doc", file=sys.stderr)
            return 1
        return 0
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(text, encoding="utf-8")
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
