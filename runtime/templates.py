"""Template tags (`_SCORE_`, `_TESTS(,)_`, `_REPORT_`, ...) expanded for one scan result.

Every text SpamAssassin adds to a message is a template: the `add_header` values, the
`rewrite_header` tags, the `report` and `unsafe_report` texts. MTAs, spamass-milter and people's
procmail recipes parse what comes out, so each tag renders exactly as SpamAssassin 4.0.1 renders
it (`PerMsgStatus::%common_tags`, `get_tag`, `_replace_tags`, `check_cleanup`,
`get_content_preview`). Values are computed lazily and at most once per result: a header list
that never mentions `_PREVIEW_` never renders the preview.

Two things are ours to decide:

- `_VERSION_` prints SpamAssassin's version string `4.0.1` (and `_SUBVERSION_` its source date):
  X-Spam-Checker-Version and the `version=` field of X-Spam-Status are parsed by tools that
  expect a SpamAssassin version, and the rules and their scores are SpamAssassin 4.0.1's.
- SpamAssassin lists report lines in the order rules hit, and inside one priority and rule type
  that order comes from Perl's randomised hash iteration, so it changes from one spamd start to
  the next. Here the order is SpamAssassin's pass order (priority, then the rule type order of
  `Plugin::Check::check_main`, metas after the rules they read), ties broken by rule name, so
  the same message always gives the same bytes.

Everything is bytes: SpamAssassin works on octets, and a tag can carry 8-bit header text.
"""

from __future__ import annotations

import ipaddress
import platform
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import TYPE_CHECKING

from .compiled import EmptyRule, EvalRule, ExistsRule, MetaRule, RegexRule, Rule
from .domains import idn_to_ascii
from .wrap import wrap

if TYPE_CHECKING:
    from .scan import ScanResult

__all__ = [
    "SA_SUBVERSION",
    "SA_VERSION",
    "MarkupEnv",
    "TagExpander",
    "fq_hostname",
    "hit_order",
    "perl_number",
    "rfc822_date",
]

SA_VERSION = "4.0.1"  # Mail::SpamAssassin::Version() of the release we are compatible with
SA_SUBVERSION = "2024-03-25"  # $Mail::SpamAssassin::SUB_VERSION of that release

# `_NAME_` or `_NAME(args)_` (PerMsgStatus::_replace_tags); `.` stops at a newline as in Perl.
_TAG = re.compile(rb"_([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*(?:\(.*?\))?)_")
# Never expanded in templates: they would recurse through the header list (SA bug 6278).
_ADDED_HEADER_TAGS = frozenset({b"ADDEDHEADER", b"ADDEDHEADERHAM", b"ADDEDHEADERSPAM"})
# Tags SpamAssassin always defines for a local scan, empty unless a plugin fills them
# (PerMsgStatus::new, Dns, Pyzor, DCC, DKIM with no valid signature, no TextCat).
_EMPTY_TAGS = frozenset(
    b"""RBL ASN ASNCIDR AWL AWLMEAN AWLCOUNT AWLPRESCORE DCCB DCCR DCCREP
    EXTRACTTEXTCHARS EXTRACTTEXTWORDS EXTRACTTEXTTOOLS EXTRACTTEXTTYPES EXTRACTTEXTEXTENSIONS
    EXTRACTTEXTFLAGS EXTRACTTEXTURIS PYZOR DKIMIDENTITY DKIMDOMAIN DKIMSELECTOR BAYESTC
    BAYESTCLEARNED BAYESTCSPAMMY BAYESTCHAMMY HAMMYTOKENS SPAMMYTOKENS TOKENSUMMARY
    LANGUAGES""".split()
)
_SCORE_PAD = re.compile(r"(0+| +)\Z")
_STARS_MAX = 50  # _STARS_ stops at 50 characters (PerMsgStatus %common_tags STARS)
# The preview's clean-ups (get_content_preview).
_PREVIEW_LINES = 3
_PREVIEW_TARGET = 200
_LONG_LINE = re.compile(rb"^(.{200}).+$", re.M)
_ORIGINAL_MESSAGE = re.compile(rb"-----Original Message-----.*$", re.M)
_MIME_PREAMBLE = re.compile(rb"This is a multi-part message in MIME format\.")
_RULER = re.compile(rb"[-_*.]{10,}")
_SPACE_RUN = re.compile(rb"[ \t\n\r\f\x0b]+")
_PREVIEW_LABEL = b"Content preview:  "
_PREVIEW_LABEL_STRIP = re.compile(rb"^Content preview:[ \t\n\r\f\x0b]+", re.M)
_LEADING_SPACE = re.compile(rb"\A[ \t\n\r\f\x0b]+")
# Test-log lines are cut after 30-48 characters at whitespace (check_cleanup).
_LOG_PIECE = re.compile(rb"^(.{30,48})[ \t\n\r\f\x0b]")
_AREAS = {"body": b"BODY: ", "rawbody": b"RAW: ", "uri": b"URI: ", "full": b"FULL: "}
# Pass order inside one priority (Plugin::Check::check_main). A mimeheader rule is a body eval
# of the MIMEHeader plugin that registers its own hit, so it has no "BODY: " area.
_STAGE = {
    ("regex", "header"): 1,
    ("eval", "header"): 2,
    ("regex", "body"): 3,
    ("regex", "uri"): 4,
    ("eval", "body"): 5,
    ("regex", "mimeheader"): 5,
    ("regex", "rawbody"): 6,
    ("eval", "rawbody"): 7,
    ("regex", "full"): 8,
    ("eval", "full"): 9,
}
_META_STAGE = 10
_NEVER = float("inf")  # a rule that never runs locally: metas reading it wait for the very end

TagValue = bytes | str | list[bytes] | None


@dataclass(frozen=True, slots=True)
class MarkupEnv:
    """What a rewrite takes from the world rather than the message: host, clock, randomness.

    Left at None, each comes from the machine (fully qualified host name, current time, a
    random MIME boundary); tests pin them to get reproducible bytes.
    """

    hostname: str | None = None
    now: float | None = None
    remote_hostname: str | None = None  # spamd's client, for PROCESS and HEADERS
    remote_addr: str | None = None
    rng: random.Random | None = field(default=None, compare=False)

    def host(self) -> str:
        return self.hostname if self.hostname is not None else fq_hostname()

    def time(self) -> float:
        return self.now if self.now is not None else time.time()

    def random32(self) -> int:
        return (self.rng or random).getrandbits(32)


@cache
def fq_hostname(hosts_file: str = "/etc/hosts") -> str:
    """The host name, made fully qualified when it has no dot (Util::fq_hostname).

    SpamAssassin asks the resolver for the name's aliases and takes the first one starting
    with `name.`; the runtime does no network I/O, so the aliases come from the hosts file.
    spamd can pass its own answer in `MarkupEnv.hostname`. Looked up once per process, as
    SpamAssassin caches it.
    """
    name = platform.node()
    if "." in name or not name:
        return name
    try:
        with open(hosts_file, encoding="utf-8", errors="replace") as handle:
            lines = handle.readlines()
    except OSError:
        return name
    for line in lines:
        fields = line.split("#", 1)[0].split()[1:]
        if name in fields:
            for candidate in fields:
                if candidate.startswith(name + "."):
                    return candidate.replace("(", "").replace(")", "")
    return name


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def rfc822_date(when: float) -> str:
    """`Dow, DD Mon YYYY HH:MM:SS +ZZZZ` in local time (Util::time_to_rfc822_date)."""
    local = time.localtime(when)
    offset = (local.tm_gmtoff or 0) // 60
    hours = int(offset / 60)  # Perl's %d truncates toward zero
    zone = f"{hours:+03d}{offset % 60:02d}"
    return (
        f"{_DAYS[local.tm_wday]}, {local.tm_mday:02d} {_MONTHS[local.tm_mon - 1]} "
        f"{local.tm_year:4d} {local.tm_hour:02d}:{local.tm_min:02d}:{local.tm_sec:02d} {zone}"
    )


def perl_number(value: float) -> str:
    """A number as Perl prints it (%.15g): 1, 2.4, -0.001."""
    text = f"{value:.15g}"
    return "0" if text == "-0" else text


def _or(arg: str | None, default: str) -> str:
    """Perl's `shift || DEFAULT`: an absent, empty or "0" argument means the default."""
    return arg if arg and arg != "0" else default


def _bytes(value: TagValue) -> bytes:
    if value is None:
        return b""
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape")
    if isinstance(value, list):
        return b" ".join(value)
    return value


def _area(rule: Rule | None) -> bytes:
    if isinstance(rule, RegexRule) and rule.target != "header":
        return _AREAS.get(rule.target, b"")
    if isinstance(rule, EvalRule) and rule.target in ("body", "rawbody"):
        return _AREAS[rule.target]
    return b""


def _stage(rule: Rule | None) -> int:
    if isinstance(rule, RegexRule):
        return _STAGE.get(("regex", rule.target), 1)
    if isinstance(rule, ExistsRule):
        return _STAGE[("regex", "header")]
    if isinstance(rule, EvalRule):
        return _STAGE.get(("eval", rule.target), 2)
    return _META_STAGE


def _runs_locally(rule: Rule | None) -> bool:
    """False for rules a local scan never runs (DNS and Bayes tests, placeholders).

    SpamAssassin marks those done only after the last priority, so a meta reading one is
    evaluated at the very end.
    """
    if rule is None or isinstance(rule, EmptyRule):
        return False
    if isinstance(rule, EvalRule) and rule.rbl:
        return False
    return not (rule.info.flag("net") or rule.info.flag("learn"))


def hit_order(result: ScanResult) -> list[str]:
    """Every hit rule (sub-rules included) in the order SpamAssassin's passes reach them."""
    rules = result.ruleset.rules
    meta_priority: dict[str, float] = {}

    def priority(name: str) -> float:
        rule = rules.get(name)
        if not isinstance(rule, MetaRule):
            return rule.info.priority if _runs_locally(rule) else _NEVER
        if name not in meta_priority:
            meta_priority[name] = -_NEVER  # cycles cannot happen; this only stops recursion
            deps = [priority(d) for d in rule.deps]
            meta_priority[name] = max(deps, default=rule.info.priority)
        return meta_priority[name]

    meta_depth: dict[str, int] = {}

    def depth(name: str) -> int:
        rule = rules.get(name)
        if not isinstance(rule, MetaRule):
            return 0
        if name not in meta_depth:
            meta_depth[name] = 0  # stops recursion should a cycle ever slip through
            meta_depth[name] = 1 + max((depth(d) for d in rule.deps), default=0)
        return meta_depth[name]

    def key(name: str) -> tuple[float, int, int, str]:
        rule = rules.get(name)
        stage = _stage(rule)
        return (priority(name), stage, depth(name) if stage == _META_STAGE else 0, name)

    return sorted(result.hits, key=key)


class TagExpander:
    """The tag values of one scan result, each computed on first use."""

    def __init__(self, result: ScanResult, env: MarkupEnv | None = None) -> None:
        self.result = result
        self.env = env or MarkupEnv()
        self.config = result.config
        self._common: dict[bytes, Callable[[str | None], TagValue]] = {
            b"YESNO": self._yesno,
            b"YESNOCAPS": lambda arg: _bytes(self._yesno(arg)).upper(),
            b"SCORE": self.score_text,
            b"HITS": self.score_text,
            b"REQD": lambda arg: self.required_text,
            b"VERSION": lambda arg: SA_VERSION,
            b"SUBVERSION": lambda arg: SA_SUBVERSION,
            b"RULESVERSION": lambda arg: "",
            b"HOSTNAME": lambda arg: str(self.config.get("report_hostname") or self.env.host()),
            b"REMOTEHOSTNAME": lambda arg: self.env.remote_hostname or "localhost",
            b"REMOTEHOSTADDR": lambda arg: self.env.remote_addr or "127.0.0.1",
            b"FIRSTTRUSTEDIP": lambda arg: self._relay_field("trusted", -1, "ip"),
            b"FIRSTTRUSTEDREVIP": lambda arg: _reverse_ip(self._relay_field("trusted", -1, "ip")),
            b"LASTEXTERNALIP": lambda arg: self._relay_field("external", 0, "ip"),
            b"LASTEXTERNALREVIP": lambda arg: _reverse_ip(self._relay_field("external", 0, "ip")),
            b"LASTEXTERNALRDNS": lambda arg: self._relay_field("external", 0, "rdns"),
            b"LASTEXTERNALHELO": lambda arg: self._relay_field("external", 0, "helo"),
            b"CONTACTADDRESS": lambda arg: str(self.config.get("report_contact") or ""),
            b"BAYES": lambda arg: self._bayes(),
            b"DATE": lambda arg: rfc822_date(self.env.time()),
            b"STARS": self._stars,
            b"AUTOLEARN": lambda arg: self.autolearn_status,
            b"AUTOLEARNSCORE": lambda arg: perl_number(self.autolearn_points),
            b"TESTS": lambda arg: _or(arg, ",").join(self.result.rules) or "none",
            b"SUBTESTS": lambda arg: _or(arg, ",").join(self._subtests()) or "none",
            b"SUBTESTSCOLLAPSED": self._subtests_collapsed,
            b"TESTSSCORES": self._tests_scores,
            b"PREVIEW": lambda arg: self.preview,
            b"REPORT": lambda arg: b"\n" + self.report_block,
            b"SUMMARY": lambda arg: self.summary_block,  # tag_data in SA; same value
            b"SUBJPREFIX": lambda arg: self.subject_prefix or b"",
            b"HEADER": self._header,
            b"TIMING": lambda arg: "",
        }

    # ---- expansion ----------------------------------------------------------------------
    def expand(self, template: str | bytes) -> bytes:
        """Replace every known tag; unknown tags stay as written (SA bug 4793)."""
        text = (
            template.encode("utf-8", "surrogateescape") if isinstance(template, str) else template
        )
        if b"_" not in text:
            return text
        return _TAG.sub(self._replace, text)

    def _replace(self, match: re.Match[bytes]) -> bytes:
        tag = match.group(1)
        if tag in _ADDED_HEADER_TAGS:
            return match.group(0)
        value = self.value(tag)
        return match.group(0) if value is None else value

    def value(self, tag: bytes) -> bytes | None:
        """One tag's text (`get_tag_raw`), or None when SpamAssassin does not know it."""
        arg: str | None = None
        if tag.endswith(b")") and b"(" in tag:
            start = tag.index(b"(")
            arg = tag[start + 1 : -1].decode("utf-8", "surrogateescape")
            tag = tag[:start]
        handler = self._common.get(tag)
        if handler is not None:
            return _bytes(handler(arg))
        if tag in _EMPTY_TAGS:
            return b""
        data = self._tag_data.get(tag)
        return None if data is None else _bytes(data)

    # ---- score, verdict ------------------------------------------------------------------
    @property
    def is_spam(self) -> bool:
        return self.result.is_spam

    def _yesno(self, arg: str | None) -> str:
        spam_text, ham_text = "Yes", "No"
        if arg:  # Perl's split of "" gives no fields at all
            parts = arg.split(",", 1)
            spam_text = parts[0]
            ham_text = parts[1] if len(parts) > 1 else ham_text
        return spam_text if self.is_spam else ham_text

    @cached_property
    def required_text(self) -> str:
        return f"{self.result.required:.1f}"

    def score_text(self, pad: str | None = None) -> str:
        """_SCORE(PAD)_: one decimal; a ham never shows as reaching the threshold."""
        text = f"{self.result.score:.1f}"
        required = self.required_text
        if not self.is_spam and not float(text) < float(required):
            text = perl_number(float(required) - 0.1)
        if pad is not None and _SCORE_PAD.match(pad):
            count = len(pad) + 3 - len(text)
            if count > 0:
                text = pad[:count] + text
        return text

    def _stars(self, arg: str | None) -> str:
        count = min(int(self.result.score), _STARS_MAX)
        return _or(arg, "*") * count if count > 0 else ""

    # ---- rule lists ----------------------------------------------------------------------
    def _subtests(self) -> list[str]:
        """Hit sub-rules, a rule with tflags multiple once per match (SA keeps duplicates)."""
        out: list[str] = []
        rules = self.result.ruleset.rules
        for name in self.result.subrules:
            rule = rules.get(name)
            times = 1
            if rule is not None and rule.info.flag("multiple"):
                times = max(1, int(self.result.hits.get(name, 1)))
            out.extend([name] * times)
        return out

    def _subtests_collapsed(self, arg: str | None) -> str:
        counts: dict[str, int] = {}
        for name in self._subtests():
            counts[name] = counts.get(name, 0) + 1
        items = [f"{n}({c})" if c > 1 else n for n, c in counts.items()]
        return _or(arg, ",").join(sorted(items)) or "none"

    def _tests_scores(self, arg: str | None) -> str:
        scores = self.result.scores
        pairs = [
            f"{n}={perl_number(scores[n]) if scores.get(n) else '0'}" for n in self.result.rules
        ]
        return _or(arg, ",").join(pairs) or "none"

    @cached_property
    def order(self) -> list[str]:
        return hit_order(self.result)

    # ---- autolearn and Bayes (no Bayes store in this runtime yet) ------------------------
    @cached_property
    def autolearn_status(self) -> str:
        """`disabled` when autolearn cannot run; otherwise what the learner recorded."""
        status = getattr(self.result.context, "autolearn_status", None)
        if isinstance(status, str) and status:
            return status
        if not (self.config.flag("bayes_auto_learn") and self.config.flag("use_bayes")):
            return "disabled"
        return "unavailable"

    @cached_property
    def autolearn_points(self) -> float:
        """Points of hit rules, minus noautolearn/userconf/learn ones (_get_autolearn_points)."""
        rules = self.result.ruleset.rules
        total = 0.0
        for name in self.order:
            rule = rules.get(name)
            if rule is not None and any(
                rule.info.flag(f) for f in ("noautolearn", "userconf", "learn")
            ):
                continue
            score = self.result.scores.get(name, 0.0)
            if score:
                total += score
        return round(total, 3)

    def _bayes(self) -> str:
        probability = getattr(self.result.context, "bayes_score", None)
        return f"{probability:3.4f}" if isinstance(probability, float) else "0.5"

    # ---- relays, addresses, headers --------------------------------------------------------
    def _relay_field(self, which: str, index: int, name: str) -> str:
        relays = getattr(self.result.context.relays, which)
        if not relays:
            return ""
        return str(getattr(relays[index], name) or "")

    def _header(self, arg: str | None) -> bytes:
        """_HEADER(Name)_: `get(Name)` in scalar context."""
        if arg is None or not _or(arg, ""):
            return b""
        values = self.result.context.header_values(arg)
        if not values:
            return b""
        if re.search(r":(?:addr|name|host|domain|ip|revip)\b", arg) or arg == "EnvelopeFrom":
            return values[0].removesuffix(b"\n")
        return b"".join(values)

    @cached_property
    def _tag_data(self) -> dict[bytes, TagValue]:
        """Tags set during the scan (`tag_data`): relays, domains, regex captures."""
        ctx = self.result.context
        relays = ctx.relays
        data: dict[bytes, TagValue] = {
            b"RELAYSTRUSTED": relays.trusted_str,
            b"RELAYSUNTRUSTED": relays.untrusted_str,
            b"RELAYSINTERNAL": relays.internal_str,
            b"RELAYSEXTERNAL": relays.external_str,
        }
        for which in ("trusted", "untrusted", "internal", "external"):
            reversed_ips = [
                _reverse_ip(r.ip).encode() for r in getattr(relays, which) if not r.ip_private
            ]
            reversed_ips = [r for r in reversed_ips if r]
            if reversed_ips:
                data[f"RELAYS{which.upper()}REVIP".encode()] = reversed_ips
        sender = ctx.header_values("EnvelopeFrom:first:addr:host")
        if sender:
            data[b"SENDERDOMAIN"] = _ace(sender[0])
        authors: list[bytes] = []
        for host in ctx.header_values("From:addr:host"):
            domain = _ace(host)
            if domain not in authors:
                authors.append(domain)
        if authors:
            data[b"AUTHORDOMAIN"] = authors if len(authors) > 1 else authors[0]
        for name, values in ctx.tags.items():
            unique = list(dict.fromkeys(values))
            data[name.encode()] = unique if len(unique) > 1 else (unique[0] if unique else b"")
        return data

    # ---- report pieces -------------------------------------------------------------------
    @cached_property
    def subject_prefix(self) -> bytes | None:
        """The `subjprefix` strings of the hit rules, in hit order, each once."""
        table = self.config.get("subjprefix")
        rewrite = self.config.get("rewrite_header")
        if not isinstance(table, dict) or not table:
            return None
        if not isinstance(rewrite, dict) or "Subject" not in rewrite:
            return None
        prefix: bytes | None = None
        for name in self.order:
            text = table.get(name)
            if text is None:
                continue
            piece = str(text).encode("utf-8", "surrogateescape")
            prefix = prefix or b""
            if piece not in prefix:
                prefix += piece + b" "
        return prefix

    @cached_property
    def _report_blocks(self) -> tuple[bytes, bytes]:
        """The _REPORT_ and _SUMMARY_ texts, one block per scoring rule (check_cleanup)."""
        result = self.result
        rules = result.ruleset.rules
        logs: dict[str, list[str]] = getattr(result.context, "test_logs", None) or {}
        width = int(self.config.number("report_wrap_width", 75)) or 75
        report: list[bytes] = []
        summary: list[bytes] = []
        for name in self.order:
            if name.startswith("__"):
                continue
            score_value = result.scores.get(name, 0.0)
            if not score_value:
                continue
            fmt = "{:4.0f}" if score_value >= 10 or score_value <= -10 else "{:4.1f}"
            score = fmt.format(score_value).encode()
            rule = rules.get(name)
            area = _area(rule)
            desc = result.describe(name).encode("utf-8", "surrogateescape")
            bname = name.encode()
            terse, long = _log_lines(
                logs.get(name, ()), redact=rule is not None and rule.info.flag("nolog")
            )
            report.append(
                b"* %s %s %s%s\n%s"
                % (
                    score,
                    bname,
                    area,
                    _wrap_desc(desc, 4 + len(bname) + len(score) + len(area), b"*      ", width),
                    b"*      " + terse if terse else b"",
                )
            )
            summary.append(
                b"%s %s %s%s\n%s"
                % (
                    score,
                    bname.ljust(22),
                    area,
                    _wrap_desc(desc, 3 + len(bname) + len(score) + len(area), b" " * 28, width),
                    long,
                )
            )
        return b"".join(report), b"".join(summary)

    @property
    def report_block(self) -> bytes:
        return self._report_blocks[0]

    @property
    def summary_block(self) -> bytes:
        return self._report_blocks[1]

    @cached_property
    def preview(self) -> bytes:
        """Up to three body paragraphs, tidied and wrapped (get_content_preview)."""
        lines = self.result.context.body_lines[1:]
        text = b""
        taken = 0
        while len(text) < _PREVIEW_TARGET and taken < len(lines) and taken < _PREVIEW_LINES:
            text += lines[taken]
            taken += 1
        text = _LONG_LINE.sub(rb"\1 [...]", text)
        text = text.removesuffix(b"\n") + b"\n"
        text = _ORIGINAL_MESSAGE.sub(b"", text)
        text = _MIME_PREAMBLE.sub(b"", text)
        text = _RULER.sub(b"", text)
        text = _SPACE_RUN.sub(b" ", text)
        text = wrap(text, b"  ", _PREVIEW_LABEL, 75, True)
        return _PREVIEW_LABEL_STRIP.sub(b"", text)


def _wrap_desc(desc: bytes, first_length: int, prefix: bytes, width: int) -> bytes:
    wrapped = wrap(desc, prefix, b" " * first_length, width, False)
    return _LEADING_SPACE.sub(b"", wrapped)


def _log_lines(messages: object, *, redact: bool) -> tuple[bytes, bytes]:
    """A rule's test-log entries as report lines (terse) and summary lines (long)."""
    items = (
        [b"*REDACTED*"]
        if redact and messages
        else [
            m.encode("utf-8", "surrogateescape") if isinstance(m, str) else bytes(m)
            for m in messages  # type: ignore[attr-defined]
        ]
    )
    terse: list[bytes] = []
    long: list[bytes] = []

    def add(piece: bytes) -> None:
        terse.append(b"[%s]\n" % piece)
        bracketed = b"[%s]" % piece
        wide = len(piece) > 47  # such a piece is right-aligned to column 78 instead
        long.append((bracketed.rjust(78) if wide else b" " * 28 + bracketed) + b"\n")

    for message in items:
        while True:
            m = _LOG_PIECE.match(message)
            if m is None:
                break
            add(m.group(1))
            message = message[m.end() :]
        add(message)
    return b"".join(terse), b"".join(long)


def _reverse_ip(ip: str) -> str:
    """An address reversed for DNS lists, "" when it is not one (Util::reverse_ip_address)."""
    parts = ip.split(".")
    if len(parts) == 4 and all(p.isdigit() and len(p) <= 3 for p in parts):
        return ".".join(reversed(parts))
    if ":" not in ip:
        return ""
    try:
        address = ipaddress.IPv6Address(ip)
    except ValueError:
        return ""
    return ".".join(reversed(address.exploded.replace(":", "")))


def _ace(host: bytes) -> bytes:
    text = host.decode("utf-8", "surrogateescape").strip()
    try:
        return idn_to_ascii(text).encode("ascii", "surrogateescape")
    except (UnicodeError, ValueError):
        return text.encode("utf-8", "surrogateescape")
