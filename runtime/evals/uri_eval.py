"""URIEval checks: a URI cut at the length limit, and https anchor text over an IP link.

Both read what URI extraction and the HTML renderer already recorded; neither looks at the
message again.
"""

from __future__ import annotations

import re

from spamkiln.runtime.context import MessageContext

__all__ = ["EVALS", "check_https_ip_mismatch", "check_uri_truncated"]

_LINK_TO_IP = re.compile(r"^https?:/*(?:[^@/]+@)?\d+\.\d+\.\d+\.\d+", re.I)
_TEXT_HTTPS_IP = re.compile(r"^https:/*(?:[^@/]+@)?\d+\.\d+\.\d+\.\d+", re.I)
_TEXT_HTTPS = re.compile(r"https:", re.I)


def check_uri_truncated(ctx: MessageContext, *_: str) -> bool:
    """URI_TRUNCATED: some URI was longer than 8 KiB and was cut before the URI rules."""
    return ctx.uri_table.truncated


def check_https_ip_mismatch(ctx: MessageContext, *_: str) -> bool:
    """HTTPS_IP_MISMATCH: the text says https://..., the link goes to a bare IP address.

    Anchor text that itself shows the https IP is honest and does not count.
    """
    for doc in ctx.html_docs:
        for uri, info in doc.uris.items():
            if not _LINK_TO_IP.match(uri):
                continue
            for text in info.anchor_text:
                if not _TEXT_HTTPS_IP.match(text) and _TEXT_HTTPS.search(text):
                    return True
    return False


EVALS = {
    "check_https_ip_mismatch": check_https_ip_mismatch,
    "check_uri_truncated": check_uri_truncated,
}
