"""`--ssl`: TLS on the TCP listeners (UNIX sockets stay plain, as in spamd).

The handshake runs in the child after accept() and under --timeout-tcp, so a client that
connects and says nothing cannot hold the child longer than a silent plain-text client could.
"""

from __future__ import annotations

import os
import ssl

from .errors import UsageError

__all__ = ["describe", "server_context"]


def server_context(
    cert: str,
    key: str,
    *,
    verify: bool = False,
    ca_file: str | None = None,
    ca_path: str | None = None,
) -> ssl.SSLContext:
    """Checked at start-up: missing files stop spamd before it forks, as spamd's do."""
    for label, path in (
        ("--server-cert", cert),
        ("--server-key", key),
        ("--ssl-ca-file", ca_file),
        ("--ssl-ca-path", ca_path),
    ):
        if path is not None and not os.path.exists(path):
            raise UsageError(f"spamd: {label} {path} does not exist", exit_status=1)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert, key)
    except (ssl.SSLError, OSError) as exc:
        raise UsageError(f"spamd: cannot load TLS key/certificate: {exc}", exit_status=1) from None
    if verify:
        context.verify_mode = ssl.CERT_REQUIRED
        if ca_file or ca_path:
            context.load_verify_locations(cafile=ca_file, capath=ca_path)
        else:
            context.load_default_certs(ssl.Purpose.CLIENT_AUTH)
    return context


def describe(sock: ssl.SSLSocket) -> str:
    """`, TLSv1_3/TLS_AES_256_GCM_SHA384` — appended to the connection log line."""
    version = (sock.version() or "").replace(".", "_")
    cipher = sock.cipher()
    return f", {version}/{cipher[0] if cipher else ''}"
