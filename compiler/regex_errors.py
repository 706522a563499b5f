"""What a rule regex can be refused for (shared by the parser, the writers and plan())."""

from __future__ import annotations


class RegexError(ValueError):
    """A rule regex Perl (or SpamAssassin's compile_regexp) refuses; the message is lint-ready."""


class UnsupportedRegex(RegexError):
    """Perl accepts the pattern but spamkiln cannot run it (a feature no shipped rule uses)."""
