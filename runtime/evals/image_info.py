"""ImageInfo checks: how many GIF/PNG/JPEG attachments a message has and how big they are.

Image spam carries its text as pictures. SpamAssassin 4.0.1 counts base64-encoded image
leaves by type and reads each one's pixel size from the file header; rules then test the
counts, the total area, and the ratio of body text to image area. Sizes are read here with
`struct` from the decoded bytes, following the reference's header walk exactly (including its
habit of stepping through a PNG eight bytes at a time until it meets the IHDR chunk).
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field

from spamkiln.runtime.context import MessageContext
from spamkiln.runtime.message import Part
from spamkiln.runtime.mime import decoded_content, header_value

from ._perl import perl_number

__all__ = [
    "EVALS",
    "ImageFacts",
    "image_count",
    "image_dimensions",
    "image_facts",
    "image_named",
    "image_size_exact",
    "image_size_range",
    "image_to_text_ratio",
    "pixel_coverage",
]

_IMAGE_TYPE = re.compile(r"^image/(?:gif|png|jpe?g)\n?\Z")
_SUBTYPE = re.compile(r"/(\w+)\n?\Z")
_TYPES = ("gif", "png", "jpeg")
_GIF_SIGNATURE = re.compile(rb"^GIF8[79]a")
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_JPEG_START = b"\xff\xd8"
# JPEG start-of-frame markers (every SOFn except DHT C4, JPG C8 and DAC CC) carry the size.
_JPEG_FRAME_MARKERS = frozenset(
    [*range(0xC0, 0xC4), *range(0xC5, 0xC8), *range(0xC9, 0xCC), *range(0xCD, 0xD0)]
)
_JPEG_END_MARKERS = (0xDA, 0xD9)  # start of scan, end of image: no frame header after these


@dataclass
class ImageFacts:
    """Per-type image counts, pixel totals and sizes ("HxW"); type 'all' sums the others."""

    count: dict[str, int] = field(default_factory=lambda: dict.fromkeys(("all", *_TYPES), 0))
    pixels: dict[str, int] = field(default_factory=lambda: dict.fromkeys(("all", *_TYPES), 0))
    sizes: dict[str, set[str]] = field(default_factory=dict)
    names: set[str] = field(default_factory=set)


def _gif_size(data: bytes) -> tuple[int, int]:
    if not _GIF_SIGNATURE.match(data) or len(data) < 10:
        return 0, 0
    width, height = struct.unpack_from("<HH", data, 6)
    return width, height


def _png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, found the reference's way."""
    if data[:8] != _PNG_SIGNATURE:
        return 0, 0
    position = 8
    while position < len(data):
        header = data[position : position + 8]
        position += 8
        if len(header) < 8:
            continue  # a short read yields no length and no usable type
        length = struct.unpack_from(">I", header)[0]
        kind = header[4:8]
        if kind == b"IEND":
            break
        if kind != b"IHDR" or length != 13:
            continue  # note: the chunk body is not skipped, the walk goes on in 8-byte steps
        fields = data[position : position + 17]
        fields = fields[:-4] if len(fields) >= 4 else fields  # drop the CRC
        width = struct.unpack_from(">I", fields)[0] if len(fields) >= 4 else 0
        height = struct.unpack_from(">I", fields, 4)[0] if len(fields) >= 8 else 0
        return width, height
    return 0, 0


def _jpeg_size(data: bytes) -> tuple[int, int]:
    """Height and width from the first start-of-frame segment, as (width, height)."""
    if data[:2] != _JPEG_START:
        return 0, 0
    position = 2
    while True:
        segment = data[position : position + 4]
        if len(segment) < 2 or segment[0] != 0xFF:
            break
        marker = segment[1]
        if marker in _JPEG_END_MARKERS or len(segment) < 4:
            break
        length = struct.unpack_from(">H", segment, 2)[0]
        if length < 2:
            break
        position += 4
        block = data[position : position + length - 2]
        if marker in _JPEG_FRAME_MARKERS:
            height = struct.unpack_from(">H", block, 1)[0] if len(block) >= 3 else 0
            width = struct.unpack_from(">H", block, 3)[0] if len(block) >= 5 else 0
            return width, height
        position += len(block)
    return 0, 0


_READERS = {"gif": _gif_size, "png": _png_size, "jpeg": _jpeg_size}


def image_dimensions(kind: str, data: bytes) -> tuple[int, int]:
    """(width, height) of a decoded GIF, PNG or JPEG image; (0, 0) when unreadable."""
    reader = _READERS.get(kind)
    if reader is None:
        return 0, 0
    try:
        return reader(data)
    except struct.error:  # a truncated header is just an unreadable image
        return 0, 0


def _image_kind(part: Part) -> str | None:
    m = _SUBTYPE.search(part.content_type)
    if m is None:
        return None
    kind = m.group(1)
    return "jpeg" if kind == "jpg" else kind if kind in _READERS else None


def image_facts(ctx: MessageContext) -> ImageFacts:
    """The message's image facts, computed on first use and cached on the message."""
    cached = ctx.msg.cache.get("evals.imageinfo")
    if isinstance(cached, ImageFacts):
        return cached
    facts = ImageFacts()
    for part in ctx.msg.leaves():
        if not _IMAGE_TYPE.match(part.content_type):
            continue
        encoding = header_value(part, "content-transfer-encoding")
        if encoding is None or encoding.lower() != b"base64":
            continue
        kind = _image_kind(part)
        if kind is None:
            continue
        data = decoded_content(part)
        width, height = image_dimensions(kind, data)
        if width and height:
            facts.pixels[kind] += width * height
            facts.sizes.setdefault(kind, set()).add(f"{height}x{width}")
            if part.filename:
                facts.names.add(part.filename)
        facts.count[kind] += 1
    for kind in _TYPES:
        facts.pixels["all"] += facts.pixels[kind]
        facts.count["all"] += facts.count[kind]
        if kind in facts.sizes:
            facts.sizes.setdefault("all", set()).update(facts.sizes[kind])
    ctx.msg.cache["evals.imageinfo"] = facts
    return facts


def _in_range(
    value: float | None, minimum: str, maximum: str | None, exclusive_max: bool = False
) -> bool:
    """min <= value <= max (max optional); exclusive_max also refuses value == max."""
    if value is None:
        return False
    if value < perl_number(minimum):
        return False
    if maximum is None:
        return True
    high = perl_number(maximum)
    return not (value > high or (exclusive_max and value == high))


def image_count(
    ctx: MessageContext,
    kind: str = "",
    minimum: str | None = None,
    maximum: str | None = None,
    *_: str,
) -> bool:
    """How many base64 image parts of a type ('gif', 'png', 'jpeg' or 'all')."""
    if minimum is None:
        return False
    return _in_range(image_facts(ctx).count.get(kind), minimum, maximum)


def pixel_coverage(
    ctx: MessageContext,
    kind: str = "",
    minimum: str | None = None,
    maximum: str | None = None,
    *_: str,
) -> bool:
    """Total pixel area of the images of a type."""
    if minimum is None:
        return False
    return _in_range(image_facts(ctx).pixels.get(kind), minimum, maximum)


def image_to_text_ratio(
    ctx: MessageContext,
    kind: str = "",
    minimum: str | None = None,
    maximum: str | None = None,
    *_: str,
    target: str = "body",
) -> bool:
    """Text bytes per image pixel in [min, max): little text around big pictures.

    The text is the body array of the calling rule's type: rendered lines for `body`,
    decoded raw chunks for `rawbody`; the scanner passes `target` (`takes_target`).
    """
    if minimum is None or maximum is None:
        return False
    pixels = image_facts(ctx).pixels.get(kind)
    if not pixels:
        return False
    texts = ctx.rawbody_chunks if target == "rawbody" else ctx.body_lines
    length = sum(map(len, texts))
    if length <= 0:
        return False
    return _in_range(length / pixels, minimum, maximum, exclusive_max=True)


def image_named(ctx: MessageContext, name: str | None = None, *_: str) -> bool:
    """An image with a readable size was attached under this file name."""
    return name is not None and name in image_facts(ctx).names


def image_size_exact(
    ctx: MessageContext,
    kind: str = "",
    height: str | None = None,
    width: str | None = None,
    *_: str,
) -> bool:
    if height is None or width is None:
        return False
    return f"{height}x{width}" in image_facts(ctx).sizes.get(kind, ())


def image_size_range(
    ctx: MessageContext,
    kind: str = "",
    min_height: str | None = None,
    min_width: str | None = None,
    max_height: str | None = None,
    max_width: str | None = None,
    *_: str,
) -> bool:
    if min_height is None or min_width is None:
        return False
    for size in image_facts(ctx).sizes.get(kind, ()):
        height, _x, width = size.partition("x")
        h, w = int(height), int(width)
        if h < perl_number(min_height) or w < perl_number(min_width):
            continue
        if max_height is not None and h > perl_number(max_height):
            continue
        if max_width is not None and w > perl_number(max_width):
            continue
        return True
    return False


# The answer depends on which body array the calling rule type gets (body or rawbody), so
# the scanner should call this eval with target=<the rule's target>.
image_to_text_ratio.takes_target = True  # type: ignore[attr-defined]

EVALS = {
    "image_count": image_count,
    "image_named": image_named,
    "image_size_exact": image_size_exact,
    "image_size_range": image_size_range,
    "image_to_text_ratio": image_to_text_ratio,
    "pixel_coverage": pixel_coverage,
}
