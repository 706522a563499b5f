"""Relative URI resolution for HTML links: RFC 3986 section 5.2, with the reference's leniencies."""

from __future__ import annotations

import re

__all__ = ["target_uri"]

_URI_PARTS_RE = re.compile(r"(?:([^:/?#]+):)?(?://([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?")
_LEADING_DOT_SEGMENT_RE = re.compile(r"^\.\.?/")
_DOT_RE = re.compile(r"^/\.(?:$|/)")
_DOT_DOT_RE = re.compile(r"^/\.\.(?:$|/)")
_SEGMENT_RE = re.compile(r"/?[^/]*")
_LAST_SEGMENT_RE = re.compile(r"/?[^/]*$")
_WWW_AUTHORITY_RE = re.compile(r"www\d*\.", re.IGNORECASE)
_FTP_AUTHORITY_RE = re.compile(r"ftp\d*\.", re.IGNORECASE)


def _remove_dot_segments(path: str) -> str:
    path = _LEADING_DOT_SEGMENT_RE.sub("/", path, count=1)
    output = ""
    while path and path != "0":  # the reference loops while the rest is Perl-true
        if _DOT_RE.match(path):
            path = _DOT_RE.sub("/", path, count=1)
        elif _DOT_DOT_RE.match(path):
            path = _DOT_DOT_RE.sub("/", path, count=1)
            output = _LAST_SEGMENT_RE.sub("", output, count=1)
        else:
            m = _SEGMENT_RE.match(path)
            assert m is not None  # the pattern matches at least "/" or one character
            output += m.group(0)
            path = path[m.end() :]
    return output


def _merge_paths(base_authority: str | None, base_path: str, relative: str) -> str:
    if base_authority is not None and base_path in ("", "0"):
        return "/" + relative
    slash = base_path.rfind("/")
    return (base_path[: slash + 1] if slash >= 0 else "") + relative


def target_uri(base: str, relative: str) -> str:
    """Resolve ``relative`` against ``base`` the way the reference renderer does.

    Mostly RFC 3986, but a relative URI with the base's own scheme (``http:foo``) is treated as
    scheme-less, and a scheme-less ``//www.host`` / ``//ftp.host`` gains ``http:`` / ``ftp:``.
    """
    r_scheme, r_auth, r_path, r_query, r_frag = _URI_PARTS_RE.match(relative).groups()  # type: ignore[union-attr]
    b_scheme, b_auth, b_path, b_query, _ = _URI_PARTS_RE.match(base).groups()  # type: ignore[union-attr]
    if r_scheme is not None and b_scheme is not None and r_scheme == b_scheme:
        r_scheme = None
    if r_scheme is not None:
        scheme, auth, path, query = r_scheme, r_auth, _remove_dot_segments(r_path), r_query
    else:
        if r_auth is not None:
            auth, path, query = r_auth, _remove_dot_segments(r_path), r_query
        else:
            if r_path == "":
                path = b_path
                query = r_query if r_query is not None else b_query
            else:
                if r_path.startswith("/"):
                    path = _remove_dot_segments(r_path)
                else:
                    path = _remove_dot_segments(_merge_paths(b_auth, b_path, r_path))
                query = r_query
            auth = b_auth
        scheme = b_scheme
    out = []
    if scheme and scheme != "0":
        out.append(scheme + ":")
    elif auth is not None:
        if _WWW_AUTHORITY_RE.match(auth):
            out.append("http:")
        elif _FTP_AUTHORITY_RE.match(auth):
            out.append("ftp:")
    if auth is not None:
        out.append("//" + auth)
    out.append(path)
    if query is not None:
        out.append("?" + query)
    if r_frag is not None:
        out.append("#" + r_frag)
    return "".join(out)
