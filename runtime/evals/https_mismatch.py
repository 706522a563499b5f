"""HTTPSMismatch: a link whose visible text claims an https:// site but which goes elsewhere.

Phishing mail shows "https://yourbank.example" and links to a plain-http host. SpamAssassin
4.0.1 compares registrable domains, per HTML part, and only fires when the part has a
moderate number of linked anchors (a newsletter with hundreds of links is not phishing).
"""

from __future__ import annotations

import re

from spamkiln.runtime.context import MessageContext
from spamkiln.runtime.domains import RegistryBoundaries
from spamkiln.runtime.ipsyntax import IS_IP_ADDRESS

from ._perl import perl_number

__all__ = ["EVALS", "check_https_http_mismatch"]

_LINK_HOST = re.compile(r"^https?://([^/:?#]+)", re.I)
_SHOWN_HTTPS_HOST = re.compile(r"https://([^\s/:?#]+)", re.I)


def _link_domain(uri: str, registry: RegistryBoundaries) -> str | None:
    """The registrable domain an http(s) link goes to; None for IPs and invalid hosts."""
    m = _LINK_HOST.match(uri)
    if m is None or IS_IP_ADDRESS.match(m.group(1)):
        return None
    domain = registry.trim_domain(m.group(1))
    found = registry.uri_to_domain(domain)
    if found is None or not registry.is_domain_valid(found[0]):
        return None
    return domain or None


def _shown_domain(anchor_text: str, registry: RegistryBoundaries) -> str | None:
    """The domain an anchor text presents as https://..., None when it presents none."""
    m = _SHOWN_HTTPS_HOST.search(anchor_text)
    if m is None:
        return None
    host = m.group(1)
    if IS_IP_ADDRESS.match(host):
        return host
    domain = registry.trim_domain(host)
    return domain if domain and registry.is_domain_valid(domain) else None


def check_https_http_mismatch(
    ctx: MessageContext, min_anchors: str = "", max_anchors: str | None = None, *_: str
) -> bool:
    registry = ctx.config.registry
    low = perl_number(min_anchors) or 1
    high = perl_number(max_anchors) if max_anchors is not None else None
    for doc in ctx.html_docs:
        hit = False
        anchors = 0
        for uri, info in doc.uris.items():
            if not info.anchor_text:
                continue
            domain = _link_domain(uri, registry)
            if domain is None:
                continue
            anchors += 1
            if hit:
                continue
            for text in info.anchor_text:
                if not _SHOWN_HTTPS_HOST.search(text):
                    continue
                shown = _shown_domain(text, registry)
                if shown is None or shown == domain:
                    continue
                hit = True
                break
        if hit and anchors >= low and (high is None or anchors < high):
            return True
    return False


EVALS = {"check_https_http_mismatch": check_https_http_mismatch}
