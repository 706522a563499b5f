"""MIMEEval checks on hand-made messages: one hit and one miss (at least) per function."""

from __future__ import annotations

import pytest

from spamkiln.runtime.evals import mime_eval as ev

from ._mail import b64, ctx, message, multipart, part

PLAIN = part(b"hello there\n", "Content-Type: text/plain; charset=us-ascii")
HTML = part(b"<p>hello there</p>\n", "Content-Type: text/html; charset=us-ascii")


def qp_message(body: bytes) -> bytes:
    return message(
        body,
        "Content-Type: text/plain; charset=iso-8859-1",
        "Content-Transfer-Encoding: quoted-printable",
    )


# (case, raw message, check_for_mime argument, expected)
CHECK_FOR_MIME = [
    (
        "base64 part",
        multipart(
            "mixed",
            PLAIN,
            part(
                b64(b"\x00" * 30),
                "Content-Type: application/octet-stream",
                "Content-Transfer-Encoding: base64",
            ),
        ),
        "mime_base64_count",
        True,
    ),
    ("no base64 part", multipart("mixed", PLAIN), "mime_base64_count", False),
    ("needless QP escape", qp_message(b"a=41b\n"), "mime_qp_count", True),
    ("an encoded = is needed", qp_message(b"a=3Db\n"), "mime_qp_count", False),
    # Once any QP line was seen the count is of needless escapes only: =E9 is needed.
    ("only needed QP escapes", qp_message(b"caf=E9\n"), "mime_qp_count", False),
    ("encoded trailing blank is fine", qp_message(b"end=20\n"), "mime_qp_count", False),
    ("QP line of 79 characters", qp_message(b"x" * 79 + b"\n"), "mime_qp_long_line", True),
    ("QP line of 78 characters", qp_message(b"x" * 78 + b"\n"), "mime_qp_long_line", False),
    (
        "report line is not counted",
        qp_message(b"SPAM: " + b"x" * 90 + b"\n"),
        "mime_qp_long_line",
        False,
    ),
    (
        "base64 text without charset",
        message(
            b64(b"plain words\n"), "Content-Type: text/plain", "Content-Transfer-Encoding: base64"
        ),
        "mime_base64_encoded_text",
        True,
    ),
    (
        "base64 text in utf-8",
        message(
            b64(b"plain words\n"),
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: base64",
        ),
        "mime_base64_encoded_text",
        False,
    ),
    (
        "base64 text inline",
        message(
            b64(b"plain words\n"),
            "Content-Type: text/plain",
            "Content-Transfer-Encoding: base64",
            "Content-Disposition: inline",
        ),
        "mime_base64_encoded_text",
        False,
    ),
    (
        "attachment",
        multipart(
            "mixed",
            PLAIN,
            part(
                b"data\n",
                "Content-Type: text/plain",
                "Content-Disposition: attachment; filename=a.txt",
            ),
        ),
        "mime_attachment",
        True,
    ),
    ("no attachment", multipart("mixed", PLAIN), "mime_attachment", False),
    (
        "bogus ISO charset",
        message(b"x\n", "Content-Type: text/plain; charset=iso-foo-bar"),
        "mime_bad_iso_charset",
        True,
    ),
    (
        "real ISO charset",
        message(b"x\n", "Content-Type: text/plain; charset=iso-8859-15"),
        "mime_bad_iso_charset",
        False,
    ),
    ("unclosed multipart", multipart("mixed", PLAIN, close=False), "mime_missing_boundary", True),
    ("closed multipart", multipart("mixed", PLAIN), "mime_missing_boundary", False),
    ("alternative seen", multipart("alternative", PLAIN, HTML), "mime_multipart_alternative", True),
    # The parser's part-limit flag lives on the message, where this eval never looks.
    ("limit flag is never visible", multipart("mixed", PLAIN), "mimepart_limit_exceeded", False),
    ("unknown name", multipart("mixed", PLAIN), "mime_no_such_flag", False),
]


@pytest.mark.parametrize(("case", "raw", "test", "expected"), CHECK_FOR_MIME)
def test_check_for_mime(case: str, raw: bytes, test: str, expected: bool) -> None:
    assert ev.check_for_mime(ctx(raw), test) is expected, case


# (case, raw, html, html_only)
HTML_SHAPES = [
    ("top-level html", message(b"<p>x</p>\n", "Content-Type: text/html"), True, True),
    ("alternative", multipart("alternative", PLAIN, HTML), True, False),
    ("html only inside mixed", multipart("mixed", HTML), True, True),
    ("plain only", message(b"x\n", "Content-Type: text/plain"), False, False),
]


@pytest.mark.parametrize(("case", "raw", "html", "html_only"), HTML_SHAPES)
def test_mime_html(case: str, raw: bytes, html: bool, html_only: bool) -> None:
    c = ctx(raw)
    assert ev.check_for_mime_html(c) is html, case
    assert ev.check_for_mime_html_only(c) is html_only, case


def alternative(text: bytes, html: bytes) -> bytes:
    return multipart(
        "alternative", part(text, "Content-Type: text/plain"), part(html, "Content-Type: text/html")
    )


@pytest.mark.parametrize(
    ("case", "raw", "expected"),
    [
        ("empty text alternative", alternative(b"", b"<p>" + b"word " * 50 + b"</p>\n"), True),
        (
            "balanced alternatives",
            alternative(b"word " * 50 + b"\n", b"<p>" + b"word " * 50 + b"</p>\n"),
            False,
        ),
        ("no alternative at all", message(b"x\n"), False),
    ],
)
def test_check_mime_multipart_ratio(case: str, raw: bytes, expected: bool) -> None:
    assert ev.check_mime_multipart_ratio(ctx(raw), "0.00", "0.01") is expected, case


@pytest.mark.parametrize(
    ("case", "raw", "expected"),
    [
        (
            "8-bit in us-ascii",
            message(b"caf\xe9\n", "Content-Type: text/plain; charset=us-ascii"),
            True,
        ),
        ("NUL in undeclared text", message(b"a\x00b\n"), True),
        (
            "8-bit in utf-8",
            message(b"caf\xc3\xa9\n", "Content-Type: text/plain; charset=utf-8"),
            False,
        ),
        ("clean ascii", message(b"cafe\n", "Content-Type: text/plain; charset=us-ascii"), False),
    ],
)
def test_check_for_ascii_text_illegal(case: str, raw: bytes, expected: bool) -> None:
    assert ev.check_for_ascii_text_illegal(ctx(raw)) is expected, case


ENTITIES = b"&#x4E2D;&#x4EBA;" * 10 + b" and a little text\n"


@pytest.mark.parametrize(
    ("case", "raw", "ratio", "expected"),
    [
        ("entities in 7bit text", message(ENTITIES, "Content-Type: text/plain"), "0.02", True),
        ("few entities", message(b"&#x4E2D;" + b"plain text " * 40 + b"\n"), "0.02", False),
        ("lower-case hex is not counted", message(ENTITIES.lower()), "0.02", False),
        (
            "quoted-printable text is exempt",
            message(
                ENTITIES, "Content-Type: text/plain", "Content-Transfer-Encoding: quoted-printable"
            ),
            "0.02",
            False,
        ),
        ("ratio argument must look like 0.05", message(ENTITIES), "2", False),
    ],
)
def test_check_abundant_unicode_ratio(case: str, raw: bytes, ratio: str, expected: bool) -> None:
    assert ev.check_abundant_unicode_ratio(ctx(raw), ratio) is expected, case


def base64_part(line_length: int, ctype: str = "application/octet-stream") -> bytes:
    return multipart(
        "mixed",
        PLAIN,
        part(
            b64(b"\xff" * 600, line_length),
            f"Content-Type: {ctype}",
            "Content-Transfer-Encoding: base64",
        ),
    )


@pytest.mark.parametrize(
    ("case", "raw", "args", "expected"),
    [
        ("78 characters and newline", base64_part(78), ("78", "79"), True),
        ("80 characters and newline", base64_part(80), ("78", "79"), False),
        ("80 characters, open range", base64_part(80), ("79",), True),
        ("RFC-conforming 76", base64_part(76), ("78", "79"), False),
        ("calendar invites are skipped", base64_part(80, "application/ics"), ("79",), False),
    ],
)
def test_check_base64_length(case: str, raw: bytes, args: tuple[str, ...], expected: bool) -> None:
    assert ev.check_base64_length(ctx(raw), *args) is expected, case


SHOUTING = b"BUY NOW AND SAVE BIG ON EVERYTHING TODAY " * 6 + b"\n"
CALM = b"this is a perfectly ordinary sentence in lower case " * 5 + b"\n"


@pytest.mark.parametrize(
    ("case", "raw", "args", "expected"),
    [
        ("shouting", message(SHOUTING, subject="HELLO THERE"), ("75", "100"), True),
        ("shouting is not 25-50", message(SHOUTING), ("25", "50"), False),
        ("calm", message(CALM), ("25", "100"), False),
        ("too short to judge", message(b"BUY NOW AND SAVE\n"), ("75", "100"), False),
        (
            "caps-prone charset",
            message(SHOUTING, "Content-Type: text/plain; charset=koi8-r"),
            ("75", "100"),
            False,
        ),
    ],
)
def test_check_for_uppercase(case: str, raw: bytes, args: tuple[str, str], expected: bool) -> None:
    assert ev.check_for_uppercase(ctx(raw), *args) is expected, case


@pytest.fixture
def no_env_locale(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LC_ALL", "LANGUAGE", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)


CYRILLIC = bytes(range(0xC0, 0xE0)) * 3 + b"\n"


@pytest.mark.usefixtures("no_env_locale")
@pytest.mark.parametrize(
    ("case", "charset", "body", "locales", "expected", "foreign"),
    [
        ("foreign charset, 8-bit body", "koi8-r", CYRILLIC, "en", True, True),
        ("reader accepts it", "koi8-r", CYRILLIC, "en ru", False, False),
        ("all locales", "koi8-r", CYRILLIC, "all", False, False),
        # koi8-r embeds ASCII: only a mostly 8-bit body counts (the MIME flag does not care)
        ("mostly ASCII body", "koi8-r", b"mostly plain ascii text here\n", "en", False, True),
        ("western charset", "iso-8859-5", CYRILLIC, "en", False, False),
    ],
)
def test_check_for_faraway_charset(
    case: str, charset: str, body: bytes, locales: str, expected: bool, foreign: bool
) -> None:
    raw = message(body, f"Content-Type: text/plain; charset={charset}")
    c = ctx(raw, ok_locales=locales)
    assert ev.check_for_faraway_charset(c) is expected, case
    assert ev.check_for_mime(c, "mime_faraway_charset") is foreign, case


def test_environment_locale_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LC_ALL", "ru_RU.KOI8-R")
    raw = message(CYRILLIC, "Content-Type: text/plain; charset=koi8-r")
    assert ev.check_for_faraway_charset(ctx(raw, ok_locales="en")) is False


@pytest.mark.parametrize(
    ("case", "raw", "flag", "expected"),
    [
        (
            "epilogue text",
            multipart("mixed", PLAIN, epilogue=b"trailing words\n"),
            "mime_epilogue_exists",
            True,
        ),
        ("clean multipart", multipart("mixed", PLAIN), "mime_epilogue_exists", False),
        (
            "part without headers",
            message(b"--B\n\nbody\n--B--\n", 'Content-Type: multipart/mixed; boundary="B"'),
            "missing_mime_headers",
            True,
        ),
        (
            "no header/body separator",
            b"From: a@example.com\nSubject: x\n",
            "missing_head_body_separator",
            True,
        ),
        ("separator present", message(b"x\n"), "missing_head_body_separator", False),
    ],
)
def test_check_msg_parse_flags(case: str, raw: bytes, flag: str, expected: bool) -> None:
    assert ev.check_msg_parse_flags(ctx(raw), flag) is expected, case


def test_truncated_header_from_assembling_all() -> None:
    """64 KiB of headers trips the flag the way SpamAssassin's ALL assembly does."""
    headers = [f"X-Filler-{i}: {'y' * 200}" for i in range(400)]
    assert ev.check_msg_parse_flags(ctx(message(b"x\n", *headers)), "truncated_header") is True
    assert ev.check_msg_parse_flags(ctx(message(b"x\n")), "truncated_header") is False


@pytest.mark.parametrize(
    ("case", "alternatives", "expected"),
    [
        (
            "pdf offered as an alternative",
            (PLAIN, part(b"%PDF\n", "Content-Type: application/pdf")),
            True,
        ),
        ("text and html", (PLAIN, HTML), False),
        ("rtf is tolerated", (PLAIN, part(b"{\\rtf}\n", "Content-Type: application/rtf")), False),
    ],
)
def test_check_ma_non_text(case: str, alternatives: tuple[bytes, ...], expected: bool) -> None:
    assert ev.check_ma_non_text(ctx(multipart("alternative", *alternatives))) is expected, case


def nested_alternative(levels: int) -> bytes:
    inner = (
        b"--ALT\nContent-Type: text/plain\n\nhi\n--ALT\nContent-Type: text/html\n\n"
        b"<p>hi</p>\n--ALT--\n"
    )
    ctype = 'multipart/alternative; boundary="ALT"'
    for i in range(levels):
        inner = f"--L{i}\nContent-Type: {ctype}\n\n".encode() + inner + f"\n--L{i}--\n".encode()
        ctype = f'multipart/mixed; boundary="L{i}"'
    return message(inner, "MIME-Version: 1.0", f"Content-Type: {ctype}")


@pytest.mark.parametrize(("levels", "expected"), [(19, False), (20, True), (21, False)])
def test_alternative_too_deep_to_parse_is_itself_non_text(levels: int, expected: bool) -> None:
    """At the nesting limit an alternative stays unparsed and offers only itself."""
    assert ev.check_ma_non_text(ctx(nested_alternative(levels))) is expected


def test_nested_non_text_is_not_a_direct_alternative() -> None:
    related = part(
        b"--R\n" + HTML + b"\n--R\nContent-Type: image/gif\n\nGIF\n--R--\n",
        'Content-Type: multipart/related; boundary="R"',
    )
    assert ev.check_ma_non_text(ctx(multipart("alternative", PLAIN, related))) is False


@pytest.mark.parametrize(
    ("case", "raw", "minimum", "expected"),
    [
        ("dense needless escapes", qp_message(b"=41=42=43=44\n"), "0.3", True),
        ("plain QP", qp_message(b"just words and one =41\n"), "0.3", False),
    ],
)
def test_check_qp_ratio(case: str, raw: bytes, minimum: str, expected: bool) -> None:
    assert ev.check_qp_ratio(ctx(raw), minimum) is expected, case


def test_registry_names() -> None:
    assert set(ev.EVALS) >= {
        "check_abundant_unicode_ratio",
        "check_base64_length",
        "check_for_ascii_text_illegal",
        "check_for_faraway_charset",
        "check_for_mime",
        "check_for_mime_html",
        "check_for_mime_html_only",
        "check_for_uppercase",
        "check_mime_multipart_ratio",
        "check_msg_parse_flags",
        "check_ma_non_text",
    }
