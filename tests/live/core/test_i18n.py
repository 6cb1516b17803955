"""Every page string exists in English and in Chinese."""

from __future__ import annotations

from live.core.i18n import EN, ZH, strings


def test_every_string_exists_in_english_and_chinese() -> None:
    assert set(EN) ^ set(ZH) == set()
    assert [k for k in EN if not EN[k].strip() or not ZH[k].strip()] == []


def test_an_unknown_language_falls_back_to_english() -> None:
    assert strings("fr") is EN and strings("zh-CN") is ZH
