"""Registry boundaries: which host names are real, and where their registrable domain starts.

URI rules, URIBL lookups and the HTTPS mismatch checks all need to cut a host name at the
registry boundary (``www.example.co.uk`` -> ``example.co.uk``) and to tell a plausible host
(``foo.com``) from text that merely has a dot in it (``file.txt``).  SpamAssassin answers both
from three configured lists (``util_rb_tld``, ``util_rb_2tld``, ``util_rb_3tld``), so this
module takes those lists as data: the compiled configuration builds one
:class:`RegistryBoundaries` per ruleset and every message shares it.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

__all__ = [
    "RegistryBoundaries",
    "idn_to_ascii",
    "is_fqdn_valid",
    "is_ip_address",
    "tld_alternation",
]

# RFC 3490 section 3.1: these code points act as label separators just like U+002E.
_ALT_FULL_STOPS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})
# Characters SpamAssassin's fast path treats as "already ASCII, only lowercase it".
_PLAIN_HOST_RE = re.compile(r"[A-Za-z0-9_.:\[\]-]*\Z")
# Labels of a valid host name once lowercased (underscores tolerated, as DNS queries allow).
_LABEL_RE = re.compile(r"[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?\Z")
_IPV4_OCTET = r"(?:1\d\d|2[0-4]\d|25[0-5]|[1-9]\d|\d)"
_IPV4_RE = re.compile(rf"{_IPV4_OCTET}(?:\.{_IPV4_OCTET}){{3}}\n?\Z")
_IPV6_CHARS_RE = re.compile(r"[0-9a-fA-F:.]+\Z")

# The .us registry delegates by state (RFC 1480), so its boundaries cannot be listed.
_US_STATE_NAMES = (
    "ak al ar az ca co ct dc de fl ga gu hi ia id il in ks ky la ma md me mi mn mo ms mt nc "
    "nd ne nh nj nm nv ny oh ok or pa pr ri sc sd tn tx ut va vi vt wa wi wv wy"
)
_US_STATES = frozenset(_US_STATE_NAMES.split())


def idn_to_ascii(name: str) -> str:
    """Lowercase a host name and turn Unicode labels into ACE (``xn--``) form.

    Hosts are compared against ACE-encoded TLD lists, so a Unicode host must be converted
    first.  A name that cannot be converted stays as it was: garbage in, garbage out, never an
    exception, as with SpamAssassin's LibIDN2 wrapper.
    """
    if _PLAIN_HOST_RE.match(name):
        return name.lower()
    name = name.translate(_ALT_FULL_STOPS)
    labels = []
    for label in name.split("."):
        if label.isascii():
            labels.append(label.lower())
            continue
        try:
            labels.append(label.encode("idna").decode("ascii"))
        except UnicodeError:
            return name  # unconvertible: left as written (case included), like the reference
    return ".".join(labels)


def is_fqdn_valid(host: str, is_ascii: bool = False) -> bool:
    """Whether ``host`` is syntactically a DNS name of at least two labels.

    Says nothing about whether the TLD exists; :meth:`RegistryBoundaries.is_domain_valid` does
    that.  Used to reject schemeless "hosts" such as ``a..b.com`` before they become URIs.
    """
    host = host.lower() if is_ascii else idn_to_ascii(host)
    host = host.rstrip(".")
    if len(host) > 253:
        return False
    labels = host.split(".")
    count = len(labels)
    if count < 2:
        return False
    for label in labels:
        if not 1 <= len(label) <= 63 or not _LABEL_RE.match(label):
            return False
        # The registrable part and the TLD may not contain underscores.
        if count <= 2 and "_" in label:
            return False
        count -= 1
    return True


def is_ip_address(text: str) -> bool:
    """Whether ``text`` is exactly an IPv4 or IPv6 address literal (optional ``IPv6:`` prefix).

    IP hosts are kept whole by :meth:`RegistryBoundaries.uri_to_domain` and skipped by the
    mismatch checks, which compare registrable domains only.
    """
    if _IPV4_RE.match(text):
        return True
    if ":" not in text:
        return False
    if text[:5].lower() == "ipv6:":
        text = text[5:]
    if not _IPV6_CHARS_RE.match(text):
        return False
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


def tld_alternation(tlds: Iterable[str]) -> str:
    """A regex alternation matching exactly the given TLDs, factored as a prefix trie.

    A flat ``com|net|...`` of ~1,500 names makes a backtracking engine try every branch at
    every position; the trie tries one branch per character instead.
    """
    trie: dict[str, dict] = {}
    for tld in tlds:
        node = trie
        for ch in tld:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict[str, dict]) -> str:
        ends_here = "" in node
        branches = [re.escape(ch) + emit(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if ends_here:
            if len(branches) == 1 and len(body) > 1:
                body = "(?:" + body + ")"
            body += "?"
        return body

    return "(?:" + emit(trie) + ")" if trie else "(?!)"


class RegistryBoundaries:
    """The configured TLD / 2nd-level / 3rd-level registry lists and the questions they answer.

    Built once per compiled configuration; all methods are pure and cheap enough to call per
    URI.  Labels are stored in ACE form, lowercased, as SpamAssassin does when it reads
    ``util_rb_*`` lines.
    """

    def __init__(
        self,
        tlds: Iterable[str],
        two_level: Iterable[str] = (),
        three_level: Iterable[str] = (),
    ) -> None:
        self.tlds = frozenset(idn_to_ascii(t) for t in tlds if t)
        self.two_level = frozenset(idn_to_ascii(d) for d in two_level if d)
        self.three_level = frozenset(idn_to_ascii(d) for d in three_level if d)
        # The same boundary rules as SpamAssassin's valid_tlds_re: the TLD must start at a
        # label boundary and must not continue as a longer label or another label.
        if self.tlds:
            self.valid_tlds_pattern = (
                r"(?<![a-zA-Z0-9-])"
                + tld_alternation(sorted(self.tlds))
                + r"(?!(?:[a-zA-Z0-9-]|\.[a-zA-Z0-9]))"
            )
        else:
            # Without a list nothing schemeless may ever look like a host.
            self.valid_tlds_pattern = "no_tlds_defined"
        self.valid_tlds_re = re.compile(self.valid_tlds_pattern, re.IGNORECASE)

    def _ascii(self, name: str, is_ascii: bool) -> str:
        return name.lower() if is_ascii else idn_to_ascii(name)

    def is_domain_valid(self, domain: str | None, is_ascii: bool = False) -> bool:
        """Whether ``domain`` has at least one dot and ends in a listed TLD."""
        if domain is None:
            return False
        domain = self._ascii(domain, is_ascii)
        if any(ch.isspace() for ch in domain):
            return False
        dot = domain.rfind(".")
        if dot < 0:
            return False
        last = domain[dot + 1 :]
        return bool(last) and last in self.tlds

    def split_domain(self, fqdn: str, is_ascii: bool = False) -> tuple[str, str]:
        """Split ``fqdn`` into (host part, registrable domain) at the registry boundary.

        Walks from the left until what remains is a listed 2TLD/3TLD (or a .us state
        delegation), then keeps one more label: ``www.foo.co.uk`` -> ``("www", "foo.co.uk")``.
        """
        domain = self._ascii(fqdn, is_ascii)
        if not domain:
            return "", domain
        domain = re.sub(r"\.{2,}", ".", domain).strip(".")
        parts = domain.split(".") if domain else []
        host: list[str] = []
        while len(parts) > 1:
            n = len(parts)
            if n == 2:
                if ".".join(parts) in self.two_level:
                    break
            elif n == 3:
                if parts[2] == "us":
                    if parts[1] in _US_STATES:
                        break
                elif ".".join(parts) in self.three_level:
                    break
            elif (
                n == 4
                and parts[3] == "us"
                and ((parts[0] == "pvt" and parts[1] == "k12") or parts[0] in ("ci", "co"))
                and parts[2] in _US_STATES
            ):
                break
            host.append(parts.pop(0))
        if host:
            parts.insert(0, host.pop())
        return ".".join(host), ".".join(parts)

    def trim_domain(self, fqdn: str, is_ascii: bool = False) -> str:
        """The registrable domain of ``fqdn`` (``www.foo.co.uk`` -> ``foo.co.uk``)."""
        return self.split_domain(fqdn, is_ascii)[1]

    def uri_to_domain(self, uri: str) -> tuple[str, str] | None:
        """(registrable domain, full host) of a URI, or None when it names no valid host.

        IP hosts are returned whole.  URIs that still carry %-escapes of printable
        characters are skipped: their decoded variant is in the list too.
        """
        uri = uri.lower()
        if uri.startswith(("javascript:", "cid:", "file:")):
            return None
        if uri.startswith("mailto:"):
            uri = uri[7:].split("?", 1)[0]
            at = uri.find("@")
            if at < 0 or "@" in uri[at + 1 :]:
                return None
            uri = uri[uri.rfind("@") + 1 :]
        else:
            uri = _SCHEME_PREFIX_RE.sub("", uri, count=1)
            uri = _PATH_RE.sub("", uri, count=1)
            uri = _USERINFO_RE.sub("", uri, count=1)
            uri = _PORT_RE.sub("", uri, count=1)
        if _PRINTABLE_ESCAPE_RE.search(uri):
            return None
        host = idn_to_ascii(uri)
        if is_ip_address(host):
            return host, host
        if not is_fqdn_valid(host, True) or not self.is_domain_valid(host, True):
            return None
        return self.trim_domain(host, True), host


_SCHEME_PREFIX_RE = re.compile(r"^[a-z]+:/{0,2}")
_PATH_RE = re.compile(r"[/?#].*", re.DOTALL)
_USERINFO_RE = re.compile(r"^[^/]*@")
_PORT_RE = re.compile(r":\d*$")
# %21..%7E except the ones that stay encoded; see uris.percent_decode.
_PRINTABLE_ESCAPE_RE = re.compile(r"%(?:2[1-9a-f]|[3-6][0-9a-f]|7[0-9a-e])")
