"""The root of every error spamkiln raises on purpose.

It lives in the runtime because every part (compiler, runtime, daemon) may import the runtime,
while the runtime imports nothing else of ours.
"""

from __future__ import annotations

__all__ = ["SpamkilnError"]


class SpamkilnError(Exception):
    """Base class: catching it separates our diagnosed errors from bugs."""
