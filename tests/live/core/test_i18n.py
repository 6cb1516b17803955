"""Every page string exists in English and in Chinese."""

from __future__ import annotations

from live.core.i18n import EN, ZH, strings


def test_every_string_exists_in_english_and_chinese() -> None:
    assert set(EN) ^ set(ZH) == set()
    assert [k for k in EN if not EN[k].strip() or not ZH[k].strip()] == []


def test_an_unknown_language_falls_back_to_english() -> None:
    assert strings("fr") is EN and strings("zh-CN") is ZH


def test_strings_that_name_a_command_give_the_one_that_works_from_the_checkout() -> None:
    # The system python has no SQLAlchemy, and a staff page needs the show's id.
    for lang in (EN, ZH):
        commands = [s for s in lang.values() if "login.py" in s]
        assert commands and all(".venv/bin/python scripts/login.py --show ID" in s for s in commands), commands


def test_viewer_page_strings_are_in_both_languages_and_never_replace_another() -> None:
    from live.core import i18n, i18n_viewer

    assert set(i18n_viewer.VIEWER_EN) == set(i18n_viewer.VIEWER_ZH)
    assert all(EN[k] == text for k, text in i18n_viewer.VIEWER_EN.items())
    try:
        i18n._add({"err_generic": "x"}, i18n_viewer.VIEWER_EN)
    except ValueError as exc:
        assert "err_generic" in str(exc)
    else:
        raise AssertionError("a key defined twice was accepted")
