"""DKIM without the network: nothing is verified, so nothing is dependable."""

from __future__ import annotations

from spamkiln.runtime.evals import dkim

from ._header_mail import context

SIGNED = (
    "DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=sel; h=from:to;"
    " bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=AAAA\n"
    "From: a@example.com"
)


def test_dkim_is_never_dependable_locally() -> None:
    assert dkim.check_dkim_dependable(context(SIGNED)) is False
    assert dkim.check_dkim_dependable(context("From: a@example.com")) is False
    assert dkim.EVALS["check_dkim_dependable"] is dkim.check_dkim_dependable
