"""ImageInfo: image headers read by hand, counts and areas per type, text-to-image ratio."""

from __future__ import annotations

import struct

import pytest

from spamkiln.runtime.evals import image_info as ev

from ._mail import b64, ctx, multipart, part


def gif(width: int, height: int) -> bytes:
    return b"GIF89a" + struct.pack("<HHBBB", width, height, 0xF7, 0, 0) + b"\x00" * 20


def png(width: int, height: int, *, filler_data: bytes | None = None) -> bytes:
    ihdr = struct.pack(">I4sIIBBBBB", 13, b"IHDR", width, height, 8, 2, 0, 0, 0) + b"CRC!"
    body = ihdr
    if filler_data is not None:  # a chunk before IHDR
        filler = struct.pack(">I4s", len(filler_data), b"tEXt") + filler_data + b"CRC!"
        body = filler + ihdr
    return b"\x89PNG\r\n\x1a\n" + body + struct.pack(">I4s", 0, b"IEND") + b"CRC!"


def jpeg(width: int, height: int) -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00" + b"\x01" * 9
    sof0 = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 3) + b"\x01" * 3
    return b"\xff\xd8" + app0 + sof0 + b"\xff\xda\x00\x02" + b"\x00" * 10 + b"\xff\xd9"


@pytest.mark.parametrize(
    ("case", "kind", "data", "size"),
    [
        ("gif", "gif", gif(120, 60), (120, 60)),
        ("png", "png", png(300, 200), (300, 200)),
        # The reference steps through a PNG 8 bytes at a time instead of chunk by chunk: an
        # IHDR at an offset that is a multiple of 8 is found, any other is not.
        ("png, IHDR at offset 24", "png", png(30, 20, filler_data=b"abcd"), (30, 20)),
        ("png, IHDR at offset 20", "png", png(30, 20, filler_data=b""), (0, 0)),
        ("jpeg", "jpeg", jpeg(640, 480), (640, 480)),
        ("not a gif", "gif", b"GIF87", (0, 0)),
        ("truncated png", "png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00", (0, 0)),
        ("jpeg without frame", "jpeg", b"\xff\xd8\xff\xd9", (0, 0)),
        ("not a jpeg", "jpeg", b"GIF89a", (0, 0)),
    ],
)
def test_image_dimensions(case: str, kind: str, data: bytes, size: tuple[int, int]) -> None:
    assert ev.image_dimensions(kind, data) == size, case


def image_part(data: bytes, ctype: str, encoding: str = "base64") -> bytes:
    body = b64(data) if encoding == "base64" else data + b"\n"
    return part(body, f"Content-Type: {ctype}", f"Content-Transfer-Encoding: {encoding}")


TEXT = part(b"look at this\n", "Content-Type: text/plain")
ONE_GIF = multipart("mixed", TEXT, image_part(gif(500, 400), "image/gif"))
TWO_JPEGS = multipart(
    "mixed", TEXT, image_part(jpeg(100, 100), "image/jpeg"), image_part(jpeg(100, 100), "image/jpg")
)
NOT_BASE64 = multipart("mixed", TEXT, image_part(gif(10, 10), "image/gif", "8bit"))

# (case, raw, function, args, expected)
CASES = [
    ("one gif", ONE_GIF, ev.image_count, ("gif", "1", "1"), True),
    ("one gif is not two", ONE_GIF, ev.image_count, ("gif", "2"), False),
    ("image/jpg counts as jpeg", TWO_JPEGS, ev.image_count, ("jpeg", "2"), True),
    ("all types", TWO_JPEGS, ev.image_count, ("all", "1", "1"), False),
    ("only base64 images count", NOT_BASE64, ev.image_count, ("gif", "1"), False),
    ("no minimum, no answer", ONE_GIF, ev.image_count, ("gif",), False),
    ("gif area in range", ONE_GIF, ev.pixel_coverage, ("gif", "180000", "475000"), True),
    ("gif area outside range", ONE_GIF, ev.pixel_coverage, ("all", "62500", "100000"), False),
    ("no png at all", ONE_GIF, ev.pixel_coverage, ("png", "0", "10"), True),
    ("unknown type", ONE_GIF, ev.pixel_coverage, ("tiff", "0", "10"), False),
    ("little text, big picture", ONE_GIF, ev.image_to_text_ratio, ("all", "0.000", "0.008"), True),
    ("no picture", multipart("mixed", TEXT), ev.image_to_text_ratio, ("all", "0", "1"), False),
    ("ratio above the range", ONE_GIF, ev.image_to_text_ratio, ("all", "0", "0.00001"), False),
    (
        "image named",
        multipart(
            "mixed",
            part(
                b64(gif(5, 5)),
                "Content-Type: image/gif",
                "Content-Transfer-Encoding: base64",
                "Content-Disposition: attachment; filename=a.gif",
            ),
        ),
        ev.image_named,
        ("a.gif",),
        True,
    ),
    ("exact size", ONE_GIF, ev.image_size_exact, ("gif", "400", "500"), True),
    ("size range", ONE_GIF, ev.image_size_range, ("all", "500", "500"), False),
]


@pytest.mark.parametrize(("case", "raw", "function", "args", "expected"), CASES)
def test_image_checks(
    case: str, raw: bytes, function: object, args: tuple[str, ...], expected: bool
) -> None:
    assert function(ctx(raw), *args) is expected, case  # type: ignore[operator]


def test_text_ratio_depends_on_rule_type() -> None:
    """body rules measure the rendered text (Subject included), rawbody the decoded parts."""
    html = part(b"<p>" + b"<b></b>" * 400 + b"hi</p>\n", "Content-Type: text/html")
    raw = multipart("mixed", html, image_part(gif(100, 100), "image/gif"))
    c = ctx(raw)
    assert ev.image_to_text_ratio.takes_target is True  # type: ignore[attr-defined]
    assert ev.image_to_text_ratio(c, "all", "0", "0.015", target="body") is True
    assert ev.image_to_text_ratio(c, "all", "0", "0.015", target="rawbody") is False


def test_registry_names() -> None:
    assert set(ev.EVALS) >= {"image_count", "image_to_text_ratio", "pixel_coverage"}
