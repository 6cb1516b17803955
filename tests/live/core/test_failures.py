"""live.core.failures: an unexpected error described by kind and place, never by its text."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

from live.core.failures import describe, kind

SECRET = "seed-5ec7e7-viewer-text"


def fail_deep(depth: int) -> None:
    if depth:
        fail_deep(depth - 1)
    raise KeyError(SECRET)


def test_the_description_names_the_kind_and_frames_but_not_the_message() -> None:
    with pytest.raises(KeyError) as info:
        fail_deep(2)
    text = describe(info.value)
    assert SECRET not in text
    assert text.splitlines()[0] == "KeyError"
    assert f"{__name__}:" in text and "in fail_deep" in text


def test_a_database_error_shows_its_cause_and_sqlstate_not_its_parameters() -> None:
    class DriverError(Exception):
        sqlstate = "P0001"

    try:
        try:
            raise DriverError(f"refused: {SECRET}")
        except DriverError as orig:
            raise OperationalError("INSERT INTO events VALUES (?)", (SECRET,), orig) from orig
    except OperationalError as exc:
        text = describe(exc)
    assert SECRET not in text
    first = text.splitlines()[0]
    assert first.startswith("sqlalchemy.exc.OperationalError <- ")
    assert first.endswith("DriverError [SQLSTATE P0001]")


def test_a_suppressed_context_is_left_out_and_a_loop_ends() -> None:
    try:
        try:
            raise ValueError(SECRET)
        except ValueError:
            raise RuntimeError(SECRET) from None
    except RuntimeError as exc:
        assert describe(exc).splitlines()[0] == "RuntimeError"
        a, b = ValueError(), TypeError()
        a.__context__, b.__context__ = b, a
        assert kind(a) == "ValueError" and describe(a).splitlines()[0] == "ValueError <- TypeError"
