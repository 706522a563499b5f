"""WelcomeListSubject: unanchored Subject globs."""

from __future__ import annotations

import pytest

from spamkiln.runtime.evals import welcomelist_subject as ev

from ._header_mail import context

LISTS = {
    "welcomelist_subject": ["[project-dev]", "build ? passed"],
    "blocklist_subject": ["*viagra*", "re: your account"],
}

# (case, Subject header, welcomed?, blocked?)
CASES = [
    ("tag anywhere", "Subject: Re: [Project-Dev] release plan", True, False),
    ("brackets are literal", "Subject: project-dev notes", False, False),
    ("question mark is one character", "Subject: build 7 passed", True, False),
    ("question mark is not zero", "Subject: build passed", False, False),
    ("star glob", "Subject: cheap VIAGRA here", False, True),
    ("spaces are part of the entry", "Subject: RE: Your Account", False, True),
    ("decoded before matching", "Subject: =?utf-8?Q?cheap_viagra?=", False, True),
    ("no Subject", "From: a@example.com", False, False),
]


@pytest.mark.parametrize(
    ("case", "subject", "welcomed", "blocked"), CASES, ids=[c[0] for c in CASES]
)
def test_subject_lists(case: str, subject: str, welcomed: bool, blocked: bool) -> None:
    ctx = context(subject, **LISTS)
    assert ev.check_subject_in_welcomelist(ctx) is welcomed
    assert ev.check_subject_in_blocklist(ctx) is blocked


def test_no_lists_configured() -> None:
    ctx = context("Subject: anything at all")
    assert not ev.check_subject_in_welcomelist(ctx)
    assert not ev.check_subject_in_blocklist(ctx)
    assert ev.EVALS["check_subject_in_whitelist"] is ev.check_subject_in_welcomelist
