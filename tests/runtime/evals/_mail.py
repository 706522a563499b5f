"""Hand-made test messages for the eval tests: plain, multipart and context builders."""

from __future__ import annotations

import base64

from spamkiln.runtime.config import Config
from spamkiln.runtime.context import MessageContext

TLDS = ["com", "net", "org", "uk", "example"]


def message(body: bytes, *headers: str, subject: str = "test") -> bytes:
    """A top-level message: the given header lines (plus From/Subject) and a body."""
    head = ["From: someone@example.com", f"Subject: {subject}", *headers]
    return ("\n".join(head) + "\n\n").encode() + body


def part(body: bytes, *headers: str) -> bytes:
    return ("\n".join(headers) + "\n\n").encode() + body


def multipart(
    subtype: str,
    *parts: bytes,
    boundary: str = "BOUNDARY",
    epilogue: bytes = b"",
    close: bool = True,
    headers: tuple[str, ...] = (),
    subject: str = "test",
) -> bytes:
    body = b"".join(b"--" + boundary.encode() + b"\n" + p + b"\n" for p in parts)
    if close:
        body += b"--" + boundary.encode() + b"--\n" + epilogue
    return message(
        body,
        "MIME-Version: 1.0",
        f'Content-Type: multipart/{subtype}; boundary="{boundary}"',
        *headers,
        subject=subject,
    )


def b64(data: bytes, width: int = 76) -> bytes:
    encoded = base64.b64encode(data)
    return b"\n".join(encoded[i : i + width] for i in range(0, len(encoded), width)) + b"\n"


def ctx(raw: bytes, **settings: object) -> MessageContext:
    values: dict[str, object] = {"util_rb_tld": TLDS, "util_rb_2tld": ["co.uk"]}
    values.update(settings)
    return MessageContext(raw, Config(values))
