"""FreeMail checks: sender, Reply-To and body addresses at free-mail providers.

Semantics are SpamAssassin 4.0.1's (`Plugin::FreeMail`). A freemail address is one whose domain
is in `freemail_domains` (wildcards `*`/`?` allowed) and that is not excused: listed in
`freemail_welcomelist`, or a role/bounce-looking local part. The Reply-To check also looks at
addresses in the body, but gives up on bodies quoting many addresses (mailing lists, forwards):
`freemail_max_body_emails` unique addresses or `freemail_max_body_freemails` freemails make
the body unusable when `freemail_skip_when_over_max` is set, as it is by default.

Known divergence: SpamAssassin compiles a rule's optional regex argument with Perl's `/o`, so
within one process the first regex used wins for later rules; the shipped rules all pass the
same regex, and here every rule gets its own.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from spamkiln.runtime.addrlists import AddressList, from_addresses
from spamkiln.runtime.config import Config
from spamkiln.runtime.context import MessageContext

from ._per_config import per_config
from .wlbl_eval import address_list

__all__ = [
    "EVALS",
    "FreemailSettings",
    "check_freemail_body",
    "check_freemail_from",
    "check_freemail_header",
    "check_freemail_replyto",
    "freemail_settings",
]

# Local parts that are never a person's freemail account: roles, bounces, forwarders.
_ROLE_ADDRESS = re.compile(
    rb"^(?:abuse|support|sales|info|helpdesk|contact|kontakt|(?:post|host|domain)master"
    rb"|undisclosed.*|request-[a-f0-9]{16}|bounced?-"
    rb"|[a-f0-9]{8}(?:\.[a-f0-9]{8}|-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12})"
    rb"|.+=.+=.+)@",
    re.I,
)
# Envelope senders of lists and bulk mailers, whose Reply-To differs from From by design.
# ("[._-t]" is a character range from "_" to "t", as SpamAssassin wrote it.)
_BULK_ENVELOPE_SENDER = re.compile(
    rb"(?:^(?:post|host|domain)master|^double-bounce|^(?:sentto|owner|return|(?:gr)?bounced?)-.+"
    rb"|-(?:request|bounces?|admin|owner)|\b(?:do[._-t]?)?no[._-t]?repl(?:y|ies)|.+=.+)@",
    re.I,
)
_VALID_DOMAIN_ENTRY = re.compile(r"[a-zA-Z0-9.*?-]+")
_VALID_WELCOME_ENTRY = re.compile(r"\w[.@]\w")
_UP_TO_AT = re.compile(rb".*@")
_EMAIL_CHARS = rb"a-z0-9!#$%&'*+/=?^_`{|}~-"
# Sanity limits on how many body addresses SpamAssassin collects.
_MAX_MAILTO_EMAILS = 20
_MAX_BODY_EMAILS = 40


@dataclass(frozen=True)
class FreemailSettings:
    """Everything the checks need from the configuration, built once."""

    domains: frozenset[bytes]
    wildcard: re.Pattern[bytes] | None
    welcomelist: frozenset[bytes]
    email: re.Pattern[bytes]
    mailto_email: re.Pattern[bytes]
    strip_urls: re.Pattern[bytes]
    strip_quoted_emails: re.Pattern[bytes]
    auth_lists: tuple[AddressList, ...]
    max_body_emails: float
    max_body_freemails: float
    skip_when_over_max: bool
    skip_bulk_envfrom: bool

    @property
    def available(self) -> bool:
        """SpamAssassin disables the plugin when no freemail domain is configured."""
        return bool(self.domains) or self.wildcard is not None


def _wildcard_pattern(entries: list[str]) -> re.Pattern[bytes] | None:
    """ "@(?:a|b)$" over the wildcard entries: "?" is any one character, "*" a run without dots."""
    if not entries:
        return None
    sources = [
        e.encode().replace(b".", b"\\.").replace(b"?", b".").replace(b"*", b"[^.]*")
        for e in entries
    ]
    return re.compile(b"@(?:" + b"|".join(sources) + b")$")


def _build(config: Config) -> FreemailSettings:
    plain: set[bytes] = set()
    wildcards: list[str] = []
    for entry in config.strings("freemail_domains"):
        if not _VALID_DOMAIN_ENTRY.fullmatch(entry):
            continue  # SpamAssassin warns and skips it
        entry = entry.lower()
        if "*" in entry or "?" in entry:
            if entry not in wildcards:
                wildcards.append(entry)
        else:
            plain.add(entry.encode())
    welcome = frozenset(
        e.lower().encode("utf-8", "surrogateescape")
        for e in config.strings("freemail_welcomelist")
        if _VALID_WELCOME_ENTRY.search(e.lower())
    )
    tlds = config.registry.valid_tlds_pattern.encode("ascii")
    email = (
        rb"(?=.{0,64}@)(?<![" + _EMAIL_CHARS + rb"])"
        rb"([" + _EMAIL_CHARS + rb"]+(?:\.[" + _EMAIL_CHARS + rb"]+)*"
        rb"@(?:[a-z0-9](?:[a-z0-9-]{0,59}[a-z0-9])?\.){1,4}" + tlds + rb")"
    )
    auth_lists = tuple(
        listed
        for setting in ("welcomelist_auth", "def_welcomelist_auth")
        if config.number(f"freemail_import_{setting}") and (listed := address_list(config, setting))
    )
    return FreemailSettings(
        domains=frozenset(plain),
        wildcard=_wildcard_pattern(wildcards),
        welcomelist=welcome,
        email=re.compile(email, re.I),
        mailto_email=re.compile(rb"^mailto:" + email, re.I),
        strip_urls=re.compile(rb"<?https?://\S{0,255}(?:@|%40)\S{0,255}", re.I),
        strip_quoted_emails=re.compile(
            rb"<?(?<!mailto:)"
            + email
            + rb"(?:>|\s{1,10}(?!(?:fa(?:x|csi)|tel|phone|e?-?mail))[a-z]{2,11}:)",
            re.I,
        ),
        auth_lists=auth_lists,
        max_body_emails=config.number("freemail_max_body_emails", 5.0),
        max_body_freemails=config.number("freemail_max_body_freemails", 3.0),
        skip_when_over_max=bool(config.number("freemail_skip_when_over_max", 1.0)),
        skip_bulk_envfrom=bool(config.number("freemail_skip_bulk_envfrom", 1.0)),
    )


def freemail_settings(config: Config) -> FreemailSettings:
    return per_config(config, "freemail", _build)


def is_freemail(settings: FreemailSettings, email: bytes) -> bool:
    """Whether a lower-cased address is a (not excused) freemail address."""
    if email == b"" or email in settings.welcomelist:
        return False
    domain = _UP_TO_AT.sub(b"", email, count=1)
    if domain in settings.welcomelist or _ROLE_ADDRESS.search(email):
        return False
    if any(listed.matches(email) for listed in settings.auth_lists):
        return False
    if domain in settings.domains:
        return True
    return settings.wildcard is not None and settings.wildcard.search(email) is not None


_RULE_REGEXES: dict[str, re.Pattern[bytes] | None] = {}


def _rule_regex(source: str) -> re.Pattern[bytes] | None:
    """A rule's optional regex argument, compiled once; None when it does not compile."""
    if source not in _RULE_REGEXES:
        try:
            _RULE_REGEXES[source] = re.compile(source.encode("utf-8", "surrogateescape"))
        except re.error:
            _RULE_REGEXES[source] = None
    return _RULE_REGEXES[source]


# ---- addresses in the body -----------------------------------------------------------------


def _collect_body_emails(ctx: MessageContext, settings: FreemailSettings) -> list[bytes]:
    """Unique addresses of <a href="mailto:"> links, then of the rendered text.

    Addresses inside URLs, in angle brackets or followed by a "wrote:"-like word are quoting,
    not contact addresses, and are ignored.

    SpamAssassin strips those from the rendered body *in place* (it edits the array its body
    rules and body evals read later), up to the line where it stops collecting. That is
    observable: body rules that run after this eval no longer see such addresses and URLs
    (e.g. `__HAS_ANY_EMAIL`), so `ctx.body_lines` is edited the same way. The URI table is
    built first, from the text as it was, as in SpamAssassin.
    """
    found: dict[bytes, None] = {}
    for uri, detail in ctx.uri_table.details.items():
        if "a" in detail.types and "parsed" not in detail.types:
            m = settings.mailto_email.match(uri.encode("utf-8", "surrogateescape"))
            if m:
                found.setdefault(m.group(1).lower(), None)
                if len(found) >= _MAX_MAILTO_EMAILS:
                    break
    lines = ctx.body_lines
    for index, line in enumerate(lines):
        line = settings.strip_urls.sub(b" ", line)
        line = settings.strip_quoted_emails.sub(b" ", line)
        lines[index] = line
        for m in settings.email.finditer(line):
            found.setdefault(m.group(1).lower(), None)
            if len(found) >= _MAX_BODY_EMAILS:
                return list(found)
    return list(found)


def _body_freemails(ctx: MessageContext, settings: FreemailSettings) -> frozenset[bytes] | None:
    """The freemail addresses of the body, or None when the body is skipped as too busy."""
    cache = ctx.msg.cache
    if "freemail:body" in cache:
        return cache["freemail:body"]  # type: ignore[return-value]
    freemails: set[bytes] = set()
    result: frozenset[bytes] | None = None
    count_all = count_freemail = 0
    for email in _collect_body_emails(ctx, settings):
        count_all += 1
        if count_all == settings.max_body_emails and settings.skip_when_over_max:
            break
        if not is_freemail(settings, email):
            continue
        count_freemail += 1
        if count_freemail == settings.max_body_freemails and settings.skip_when_over_max:
            break
        freemails.add(email)
    else:
        result = frozenset(freemails)
    cache["freemail:body"] = result
    return result


# ---- the checks ----------------------------------------------------------------------------


def _test_log(ctx: MessageContext, text: bytes | str) -> None:
    """The detail SpamAssassin adds to the report line: the address, "@" written "(at)"."""
    if not ctx.config.number("freemail_add_describe_email", 1.0):
        return
    if isinstance(text, bytes):
        text = text.decode("utf-8", "surrogateescape")
    ctx.test_log(text.replace("@", "(at)"))


def _text(value: bytes) -> str:
    return value.decode("utf-8", "surrogateescape")


def check_freemail_header(
    ctx: MessageContext, header: str = "", regex: str | None = None, *_args: str
) -> bool:
    """FREEMAIL_*_END_DIGIT, __freemail_hdr_replyto: an address of the header is freemail.

    With a regex, the freemail address must also match it (e.g. a digit before the "@").
    """
    if not header:
        return False
    addresses = (e.lower() for e in ctx.header_values(f"{header}:addr"))
    return _first_freemail(ctx, addresses, regex)


def check_freemail_from(ctx: MessageContext, regex: str | None = None, *_args: str) -> bool:
    """FREEMAIL_FROM: some From-ish address (From, envelope sender, ...) is freemail."""
    return _first_freemail(ctx, dict.fromkeys(a.lower() for a in from_addresses(ctx)), regex)


def _first_freemail(ctx: MessageContext, addresses: Iterable[bytes], regex: str | None) -> bool:
    """Hit (and log) on the first freemail address, which must match `regex` when given."""
    settings = freemail_settings(ctx.config)
    if not settings.available:
        return False
    pattern = None
    if regex is not None:
        pattern = _rule_regex(regex)
        if pattern is None:  # an invalid rule regex: SpamAssassin warns and never hits
            return False
    for email in addresses:
        if is_freemail(settings, email) and (pattern is None or pattern.search(email)):
            _test_log(ctx, email)
            return True
    return False


def check_freemail_body(ctx: MessageContext, regex: str | None = None, *_args: str) -> bool:
    """The body quotes a freemail address (optionally one matching the regex)."""
    settings = freemail_settings(ctx.config)
    if not settings.available:
        return False
    freemails = _body_freemails(ctx, settings)
    if not freemails:
        return False
    if regex is None:
        _test_log(ctx, ", ".join(_text(e) for e in sorted(freemails)))
        return True
    pattern = _rule_regex(regex)
    for email in sorted(freemails) if pattern is not None else ():
        if pattern.search(email):
            _test_log(ctx, email)
            return True
    return False


def check_freemail_replyto(ctx: MessageContext, what: str = "replyto", *_args: str) -> bool:
    """__freemail_replyto / __freemail_reply: replies would go to a different freemail box.

    Hit when From and Reply-To are different freemail addresses, or when the reply address
    (Reply-To; with 'reply', From when there is no Reply-To) is freemail and the body names
    another freemail address. Bulk-looking envelope senders are skipped.
    """
    settings = freemail_settings(ctx.config)
    if not settings.available or what not in ("replyto", "reply"):
        return False
    if settings.skip_bulk_envfrom:
        envelope = ctx.header_values("EnvelopeFrom")
        if envelope and _BULK_ENVELOPE_SENDER.search(envelope[0]):
            return False
    from_addrs = [a.lower() for a in ctx.header_values("From:addr")]
    reply_addrs = [a.lower() for a in ctx.header_values("Reply-To:addr")]
    from_is_freemail = any(is_freemail(settings, a) for a in from_addrs)
    reply_is_freemail = any(is_freemail(settings, a) for a in reply_addrs)
    from_not_in_reply = not any(a in reply_addrs for a in from_addrs)
    if from_is_freemail and reply_is_freemail and from_not_in_reply:
        _test_log(
            ctx, ",".join(map(_text, from_addrs)) + " -> " + ",".join(map(_text, reply_addrs))
        )
        return True
    if what == "replyto":
        if not reply_is_freemail:
            return False
    elif (reply_addrs and not reply_is_freemail) or not from_is_freemail:
        return False  # 'reply': a non-freemail Reply-To, or no freemail From, ends it
    freemails = _body_freemails(ctx, settings)
    if not freemails:
        return False
    targets = reply_addrs if what == "replyto" or reply_is_freemail else from_addrs
    for body_email in sorted(freemails):  # SpamAssassin's order is a hash's: any order will do
        for target in targets:
            if body_email != target:
                _test_log(ctx, f"{_text(target)}, {_text(body_email)}")
                return True
    return False


EVALS: dict[str, Callable[..., object]] = {
    "check_freemail_header": check_freemail_header,
    "check_freemail_from": check_freemail_from,
    "check_freemail_body": check_freemail_body,
    "check_freemail_replyto": check_freemail_replyto,
}
