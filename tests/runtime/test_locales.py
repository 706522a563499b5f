"""Which charsets count as readable for a set of locales."""

from __future__ import annotations

import pytest

from spamkiln.runtime.locales import charset_ok_for_locales, my_locales


@pytest.mark.parametrize(
    ("charset", "locales", "expected"),
    [
        ("us-ascii", ["en"], True),
        ("ISO-8859-5", ["en"], True),
        ("utf-8", ["en"], True),
        ("windows-1251", ["en"], True),
        ("3Dkoi8-r", ["ru"], True),  # "=3D" debris from a quoted-printable header
        ("koi8-r", ["en"], False),
        ("koi8-r", ["ru_RU.UTF-8"], True),
        ("Shift_JIS", ["ja"], True),
        ("big5", ["en", "zh_TW"], True),
        ("euc-kr", ["C"], False),  # C means English
        ("x-unknown", ["en"], True),
        ("gb2312", ["ja"], False),
        ("", ["en"], False),
    ],
)
def test_charset_ok_for_locales(charset: str, locales: list[str], expected: bool) -> None:
    assert charset_ok_for_locales(charset, locales) is expected


def test_my_locales_adds_the_first_environment_locale(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LC_ALL", "LANGUAGE", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    assert my_locales("en fr") == ["en", "fr"]
    monkeypatch.setenv("LANG", "de_DE.UTF-8")
    monkeypatch.setenv("LC_MESSAGES", "ja_JP")
    assert my_locales("en") == ["en", "ja_JP"]
