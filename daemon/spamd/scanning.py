"""Building the scanner in the master: import the compiled ruleset, prepare it, warm it up.

Everything a scan touches lazily (regex sets, config-derived objects, parser tables) is
touched once here, before the fork, so the children share those pages instead of each
building its own copy on its first message.
"""

from __future__ import annotations

import gc
import importlib
import pkgutil
from pathlib import Path

from spamkiln.runtime import loader
from spamkiln.runtime.scan import Scanner

__all__ = ["WARM_UP_MESSAGE", "load_scanner", "preload_modules", "release_old_objects"]

# Imported lazily by the standard library or the runtime on some messages only. Children run as
# an unprivileged user that may not be able to read the interpreter's own library directory
# (a pyenv Python under /root, for one), so anything a child could import later is imported now.
_LAZY_MODULES = ("_strptime", "stringprep", "unicodedata", "charset_normalizer")

# A small message with the parts most rules look at: relays, a multipart body with HTML, a URI.
WARM_UP_MESSAGE = (
    b"Received: from mail.example.org (mail.example.org [192.0.2.10])\r\n"
    b"\tby mx.example.net with ESMTP id 1234; Mon, 2 Jan 2023 10:00:00 +0000\r\n"
    b"From: Warm Up <warm@example.org>\r\n"
    b"To: someone@example.net\r\n"
    b"Subject: warm-up\r\n"
    b"Date: Mon, 2 Jan 2023 10:00:00 +0000\r\n"
    b"Message-ID: <warm-up@example.org>\r\n"
    b"MIME-Version: 1.0\r\n"
    b'Content-Type: multipart/alternative; boundary="b1"\r\n'
    b"\r\n"
    b"--b1\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
    b"Hello, see http://www.example.com/page for details.\r\n"
    b"--b1\r\n"
    b"Content-Type: text/html; charset=utf-8\r\n\r\n"
    b'<html><body><p>Hello, <a href="http://www.example.com/page">see here</a></p>'
    b"</body></html>\r\n"
    b"--b1--\r\n"
)


def preload_modules() -> None:
    """Import every codec and the other lazily imported modules into the master."""
    import encodings

    names = [f"encodings.{m.name}" for m in pkgutil.iter_modules(encodings.__path__)]
    for name in [*names, *_LAZY_MODULES]:
        try:
            importlib.import_module(name)
        except Exception:  # platform-specific codecs (mbcs, oem) do not import on Linux
            continue


def load_scanner(outdir: Path, *, fresh: bool = False) -> Scanner:
    """Import OUTDIR's compiled ruleset and return a warmed-up Scanner.

    `fresh` (HUP) re-imports the module even though this process imported it before: the
    loader caches by path, and a reload must see the file sa-compile just rewrote.
    """
    preload_modules()
    scanner = Scanner(loader.load_ruleset(outdir, fresh=fresh))
    scanner.scan(WARM_UP_MESSAGE)
    return scanner


def release_old_objects() -> None:
    """After a reload: let the collector free the previous ruleset's cycles, which the last
    gc.freeze() had put out of its reach, before the next fork freezes the heap again."""
    gc.unfreeze()
    gc.collect()
