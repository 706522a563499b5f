"""Per-message state: the parsed message and every view rules and evals read, computed lazily.

This is spamkiln's PerMsgStatus. Each view (header texts, rendered body lines, raw body chunks,
URIs, relays, HTML facts) is built the first time a rule asks for it and kept for the rest of
the scan, so a message pays only for what its rules need. Eval functions receive the context and
read what they need from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from . import body, headers, mime
from .config import Config
from .headers import DEFAULT_CONTEXT, HeaderContext
from .html import HtmlDocument, parse_html
from .message import Message
from .relays import RelayInfo, parse_relays
from .uris import UriTable

__all__ = ["MessageContext"]

_RELAY_HEADERS = (
    "X-Spam-Relays-Trusted",
    "X-Spam-Relays-Untrusted",
    "X-Spam-Relays-Internal",
    "X-Spam-Relays-External",
)


@dataclass(eq=False)
class MessageContext:
    raw: bytes
    config: Config
    hits: dict[str, float] = field(default_factory=dict)  # rule -> meta value, as they hit
    tags: dict[str, list[bytes]] = field(default_factory=dict)  # capture tags (SA 4.0)
    timed_out: bool = False  # the scan hit time_limit before every rule ran
    # Details evals add to a rule's report line (SpamAssassin's test_log), by rule name.
    test_logs: dict[str, list[str]] = field(default_factory=dict)
    current_rule: str | None = None  # the eval rule being run (get_current_eval_rule_name)
    _html_docs: list[HtmlDocument] = field(default_factory=list)
    _header_cache: dict[tuple[str, str | None], bytes | None] = field(default_factory=dict)

    def test_log(self, text: str, rule: str | None = None) -> None:
        """Attach a detail line to a rule's entry in the report (the current eval's rule)."""
        name = rule or self.current_rule
        if name:
            self.test_logs.setdefault(name, []).append(text)

    # ---- the message -------------------------------------------------------------------
    @cached_property
    def msg(self) -> Message:
        return mime.parse(self.raw)

    # ---- relays and header views -------------------------------------------------------
    @cached_property
    def received(self) -> list[str]:
        """Received values, topmost first, unfolded and not RFC 2047-decoded."""
        values = headers.get_values(self.msg, "Received", DEFAULT_CONTEXT)
        return [v.decode("utf-8", "surrogateescape").rstrip("\n") for v in values if v]

    @cached_property
    def relays(self) -> RelayInfo:
        cfg = self.config
        originating = []
        for name in cfg.strings("originating_ip_headers"):
            values = headers.get_values(self.msg, name, DEFAULT_CONTEXT)
            originating.append(
                values[-1].decode("utf-8", "surrogateescape").strip() if values else None
            )
        return parse_relays(
            self.received,
            trusted=cfg.trusted_networks,
            internal=cfg.internal_networks,
            msa=cfg.msa_networks,
            originating_values=originating,
        )

    @cached_property
    def header_context(self) -> HeaderContext:
        registry = self.config.registry
        relays = self.relays
        metadata = {
            name.lower(): relays.header(name).encode("utf-8", "surrogateescape")
            for name in _RELAY_HEADERS
        }
        return HeaderContext(
            tld_pattern=registry.valid_tlds_pattern,
            trim_domain=registry.trim_domain,
            relay_envfrom=self._relay_envfrom,
            envelope_sender_header=self.config.get("envelope_sender_header"),  # type: ignore[arg-type]
            metadata=metadata,
            last_trusted_relay_index=relays.last_trusted_index,
            last_internal_relay_index=relays.last_internal_index,
        )

    def _relay_envfrom(self) -> str | None:
        """envfrom of the first untrusted relay, or of the oldest trusted one if all are."""
        relays = self.relays
        if relays.untrusted:
            return relays.untrusted[0].envfrom
        if relays.trusted:
            return relays.trusted[-1].envfrom
        return None

    def header(self, spec: str, if_unset: str | None = None) -> bytes | None:
        """The text a header rule matches (values joined), or None when absent."""
        key = (spec, if_unset)
        if key not in self._header_cache:
            unset = if_unset.encode("utf-8", "surrogateescape") if if_unset is not None else None
            self._header_cache[key] = headers.header_text(
                self.msg, spec, unset, context=self.header_context
            )
        return self._header_cache[key]

    def header_values(self, spec: str) -> list[bytes]:
        return headers.get_values(self.msg, spec, self.header_context)

    # ---- bodies ------------------------------------------------------------------------
    def _render(self, text: str) -> str:
        doc = parse_html(text)
        self._html_docs.append(doc)
        return doc.rendered

    @cached_property
    def body_lines(self) -> list[bytes]:
        """The rendered body array: Subject line first (body rules, body evals)."""
        return body.rendered_body_lines(self.msg, self._render)

    @cached_property
    def html_docs(self) -> list[HtmlDocument]:
        self.body_lines  # noqa: B018 - rendering the body parses the HTML parts
        return self._html_docs

    @cached_property
    def rawbody_chunks(self) -> list[bytes]:
        return body.decoded_body_chunks(self.msg)

    @cached_property
    def pristine(self) -> bytes:
        return body.pristine(self.msg)

    @cached_property
    def mime_headers(self) -> list[body.PartHeaders]:
        return body.mime_part_headers(self.msg)

    # ---- URIs --------------------------------------------------------------------------
    @cached_property
    def uri_table(self) -> UriTable:
        return self.config.uri_extractor.build_table(self.body_lines, self.html_docs)

    @cached_property
    def uri_list(self) -> list[bytes]:
        return [u.encode("utf-8", "surrogateescape") for u in self.uri_table.uri_list()]
