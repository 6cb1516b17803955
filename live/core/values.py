"""Checking untrusted input: each helper returns a clean value or raises ``Invalid``.

``field`` paths follow the JSON the client sent (``segments[3].sku``) so the
error can point at the exact cell.
"""

from __future__ import annotations

import json
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from live.core.errors import Invalid

SKU_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
MAX_MONEY = Decimal(100_000_000)


def obj(value: Any, field: str) -> dict[str, Any]:
    """``value`` if it is a JSON object; raises Invalid (field ``None`` for the body)."""
    if not isinstance(value, dict):
        raise Invalid(f"{field or 'body'} must be a JSON object", field or None)
    return value


def array(value: Any, field: str, max_items: int) -> list[Any]:
    """``value`` if it is a list of at most ``max_items``; raises Invalid."""
    if not isinstance(value, list):
        raise Invalid(f"{field} must be a list", field)
    if len(value) > max_items:
        raise Invalid(f"{field} has {len(value)} items; at most {max_items} are allowed", field)
    return value


def text(
    value: Any, field: str, *, max_len: int, min_len: int = 1, default: str | None = None
) -> str:
    """The stripped string (``default`` when ``value`` is None and a default is given);
    raises Invalid when it is not a string, too short or long, or holds control or
    format characters (``invisible``)."""
    if value is None and default is not None:
        return default
    if not isinstance(value, str):
        raise Invalid(f"{field} must be a string", field)
    clean: str = value.strip()
    if len(clean) < min_len:
        raise Invalid(f"{field} must not be empty", field)
    if len(clean) > max_len:
        raise Invalid(f"{field} is longer than {max_len} characters", field)
    if clean.isascii() and clean.isprintable():
        return clean  # the common case (ids, keys, most names): no control or format character possible
    if any(ord(c) < 32 and c not in "\n\t" for c in clean):
        raise Invalid(f"{field} contains control characters", field)
    bad = invisible(clean)
    if bad is not None:
        raise Invalid(f"{field} contains the invisible character U+{ord(bad):04X}", field)
    return clean


ZWJ = "\u200d"
# What may stand before a joiner in an emoji sequence (👩🏽‍💻, ❤️‍🔥): an emoji,
# its presentation selector, or a skin tone.
_EMOJI_VS = "\ufe0f"
_SKIN_TONES = range(0x1F3FB, 0x1F400)


def _is_emoji(c: str) -> bool:
    return unicodedata.category(c) == "So"


def invisible(s: str) -> str | None:
    """The first format character (Unicode category Cf) in ``s``, or None.

    Format characters are invisible: bidi overrides and isolates make a name
    or a comment render as other text, zero-width spaces make empty-looking
    text or near-duplicates, tag characters carry hidden text. The one kept is
    a zero-width joiner inside an emoji sequence (👨‍👩‍👧), which draws one emoji;
    so no text is left that is empty once they are removed."""
    for i, c in enumerate(s):
        if unicodedata.category(c) != "Cf":
            continue
        if c == ZWJ and 0 < i < len(s) - 1:
            before, after = s[i - 1], s[i + 1]
            if (_is_emoji(before) or before == _EMOJI_VS or ord(before) in _SKIN_TONES) and _is_emoji(after):
                continue
        return c
    return None


def optional_text(value: Any, field: str, *, max_len: int) -> str | None:
    """None for null or ``""``, else ``text(value)``; raises Invalid."""
    if value is None or value == "":
        return None
    return text(value, field, max_len=max_len)


def integer(value: Any, field: str, *, lo: int, hi: int, default: int | None = None) -> int:
    """A whole number in ``[lo, hi]`` (a float such as ``60.0`` counts); raises Invalid."""
    if value is None and default is not None:
        return default
    # bool is an int in Python; JSON true is not a number.
    number: int
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    else:
        raise Invalid(f"{field} must be a whole number", field)
    if not lo <= number <= hi:
        raise Invalid(f"{field} must be between {lo} and {hi}", field)
    return number


def boolean(value: Any, field: str, *, default: bool) -> bool:
    """JSON true or false (absent or null: ``default``); raises Invalid, so that
    ``0``, ``"no"`` or ``"false"`` never pass for a truth value."""
    if value is None:
        return default
    if not isinstance(value, bool):
        raise Invalid(f"{field} must be true or false", field)
    return value


def money(value: Any, field: str) -> str:
    """A decimal amount ≥ 0 with at most two places, returned as a string like ``"99.00"``."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise Invalid(f"{field} must be a decimal string such as \"99.00\"", field)
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise Invalid(f"{field} must be a decimal string such as \"99.00\"", field) from None
    if not amount.is_finite() or amount < 0 or amount > MAX_MONEY:
        raise Invalid(f"{field} must be between 0 and {MAX_MONEY}", field)
    if amount != amount.quantize(Decimal("0.01")):
        raise Invalid(f"{field} has more than two decimal places", field)
    # "-0" is not negative, but Decimal keeps its sign: never show "-0.00".
    return str(abs(amount).quantize(Decimal("0.01")))


def sku(value: Any, field: str) -> str:
    """``value`` if it is a valid sku; raises Invalid."""
    # fullmatch: with match(), "$" would also accept a trailing newline.
    if not isinstance(value, str) or not SKU_RE.fullmatch(value):
        raise Invalid(
            f"{field} must be 1–64 letters, digits, '.', '_' or '-' (starting with a letter or digit)",
            field,
        )
    return value


def url(value: Any, field: str, *, required: bool) -> str | None:
    """An absolute http(s) URL, or None when empty and not required; raises Invalid."""
    if value is None or value == "":
        if required:
            raise Invalid(f"{field} is required", field)
        return None
    if not isinstance(value, str) or len(value) > 2048:
        raise Invalid(f"{field} must be an http(s) URL of at most 2048 characters", field)
    # urlsplit silently drops tabs/newlines and leading control characters, so
    # "java\nscript:" would parse as another scheme; the URL ends up in redirects
    # and pages, so refuse whitespace and control characters outright.
    if any(ord(c) <= 32 or ord(c) == 127 for c in value):
        raise Invalid(f"{field} must not contain spaces or control characters", field)
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise Invalid(f"{field} must be an http(s) URL", field)
    return value


def currency(value: Any, field: str) -> str:
    """An ISO 4217 code (``CNY`` when None); raises Invalid."""
    if value is None:
        return "CNY"
    if not isinstance(value, str) or not CURRENCY_RE.fullmatch(value):
        raise Invalid(f"{field} must be a three-letter ISO 4217 code such as CNY", field)
    return value


def no_unknown_keys(data: dict[str, Any], allowed: set[str], field: str) -> None:
    """Raises Invalid naming the first key (sorted) not in ``allowed``."""
    extra = sorted(set(data) - allowed)
    if extra:
        where = f"{field}.{extra[0]}" if field else extra[0]
        raise Invalid(f"unknown field {extra[0]!r}", where)


# -- JSON from clients ------------------------------------------------------------

MAX_DEPTH = 32
_SURROGATE = re.compile("[\ud800-\udfff]")


class _DuplicateKey(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # A key given twice is ambiguous (json keeps the last): {"type": "show.start",
    # "type": "show.end"} must not mean either.
    data = dict(pairs)
    if len(data) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return data


def _not_json(name: str) -> Any:
    # NaN and Infinity are Python's extensions, not JSON: refused, because no
    # field wants them and a stored NaN could not be sent back as JSON.
    raise ValueError(f"{name} is not a JSON value")


def parse_json(raw: bytes | str, field: str = "body") -> Any:
    """``raw`` parsed as strict JSON and checked by ``check_json_value``.

    Raises Invalid (``field``, or the path of the bad string) when it is not
    JSON, gives a key twice in one object, nests deeper than ``MAX_DEPTH``, or
    holds a lone surrogate."""
    try:
        data = json.loads(raw, parse_constant=_not_json, object_pairs_hook=_unique_keys)
    except _DuplicateKey as exc:
        key = str(exc)[:40]
        raise Invalid(f"the {field} gives the key {key!r} twice", field) from None
    except RecursionError:
        # json's C scanner recurses per level: a megabyte of "[" is not a 500.
        raise Invalid(f"the {field} nests deeper than {MAX_DEPTH} levels", field) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise Invalid(f"the {field} is not valid JSON: {exc}", field) from None
    check_json_value(data, field)
    return data


def check_json_value(data: Any, field: str = "body") -> None:
    """Raises Invalid unless ``data`` nests at most ``MAX_DEPTH`` levels and no
    key or string in it holds a lone surrogate.

    ``"\\ud800"`` is valid JSON but not Unicode: such a string cannot be
    encoded as UTF-8, so storing it would fail in the journal and every later
    answer that shows it. The field named is the path of the bad string
    (``segments[2].title``). Iterative, so no input can exhaust the stack."""
    stack: list[tuple[Any, str, int]] = [(data, "", 0)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, str):
            if _SURROGATE.search(value):
                raise Invalid("text must be Unicode: it holds a lone surrogate (\\ud800-\\udfff)", path or field)
        elif isinstance(value, (dict, list)):
            if depth >= MAX_DEPTH:
                raise Invalid(f"the {field} nests deeper than {MAX_DEPTH} levels", field)
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str):
                    if _SURROGATE.search(key):
                        raise Invalid("a key must be Unicode: it holds a lone surrogate", path or field)
                    sub = f"{path}.{key}" if path else key
                else:
                    sub = f"{path}[{key}]"
                stack.append((item, sub, depth + 1))
