"""Hand-made messages for header-eval tests: exactly the header lines given, nothing added."""

from __future__ import annotations

from spamkiln.runtime.config import Config
from spamkiln.runtime.context import MessageContext

TLDS = ["com", "net", "org", "uk", "ie", "example"]


def config(**settings: object) -> Config:
    values: dict[str, object] = {"util_rb_tld": TLDS, "util_rb_2tld": ["co.uk"]}
    values.update(settings)
    return Config(values)


def context(
    headers: str | bytes, body: str | bytes = "hello\n", **settings: object
) -> MessageContext:
    """A message of these header lines (newline-separated) and body, with test settings."""
    head = headers.encode("latin-1") if isinstance(headers, str) else headers
    text = body.encode("latin-1") if isinstance(body, str) else body
    return MessageContext(head.strip(b"\n") + b"\n\n" + text, config(**settings))


def received(sender: str, ip: str, by: str, when: str, extra: str = "") -> str:
    """A Postfix-style Received line."""
    return f"Received: from {sender} ({sender} [{ip}]) by {by} (Postfix) id A1B2{extra}; {when}"
