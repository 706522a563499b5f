"""The scan-time configuration: the compiled settings plus the objects built from them once.

`sa-compile` wrote every setting as a plain literal; this turns them into what the scanner uses
(registry boundaries, the URI extractor, network sets, compiled redirector patterns) so no
message pays for it. Defaults are SpamAssassin 4.0.1's where a setting was never written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

import regex

from .domains import RegistryBoundaries
from .netset import NetSet
from .uris import RedirectorPattern, UriExtractor

__all__ = ["Config"]

# SpamAssassin's defaults for the settings the scanner reads (Conf.pm, 4.0.1).
_DEFAULTS: dict[str, object] = {
    "required_score": 5.0,
    "report_safe": 1.0,
    "normalize_charset": True,
    "body_part_scan_size": 50000.0,
    "rawbody_part_scan_size": 500000.0,
    "ok_locales": "all",
    "envelope_sender_header": None,
    "parse_dkim_uris": True,
    "use_bayes": True,
    "bayes_auto_learn": True,
    "fold_headers": True,
    "report_wrap_width": 75.0,
    "report_charset": "UTF-8",
    "report_contact": "the administrator of that system",
    "always_trust_envelope_sender": False,
    "freemail_max_body_emails": 5.0,
    "freemail_max_body_freemails": 3.0,
    "freemail_skip_when_over_max": 1.0,
    "freemail_skip_bulk_envfrom": 1.0,
}


@dataclass
class Config:
    settings: Mapping[str, object] = field(default_factory=dict)

    def get(self, name: str, default: object = None) -> object:
        if name in self.settings:
            return self.settings[name]
        return _DEFAULTS.get(name, default)

    def number(self, name: str, default: float = 0.0) -> float:
        value = self.get(name, default)
        return float(value) if isinstance(value, (int, float, str)) and value != "" else default

    def flag(self, name: str) -> bool:
        return bool(self.get(name, False))

    def strings(self, name: str) -> list[str]:
        value = self.get(name, ())
        return [str(v) for v in value] if isinstance(value, (list, tuple)) else []

    @property
    def required_score(self) -> float:
        return self.number("required_score", 5.0)

    @cached_property
    def registry(self) -> RegistryBoundaries:
        return RegistryBoundaries(
            self.strings("util_rb_tld"),
            self.strings("util_rb_2tld"),
            self.strings("util_rb_3tld"),
        )

    @cached_property
    def redirectors(self) -> tuple[RedirectorPattern, ...]:
        out = []
        for item in self.get("redirector_pattern", ()) or ():
            _engine, pattern = item  # both engines' exact patterns compile with `regex`
            compiled = regex.compile(pattern)
            out.append(_bytes_redirector(compiled))
        return tuple(out)

    @cached_property
    def uri_extractor(self) -> UriExtractor:
        return UriExtractor(self.registry, self.redirectors)

    def _netset(self, name: str, *, loopback: bool) -> NetSet | None:
        """None when the setting is absent: SpamAssassin then infers trust itself."""
        entries = self.strings(name)
        if not entries:
            return None
        return NetSet.of(*entries, name=name, loopback=loopback)

    @cached_property
    def trusted_networks(self) -> NetSet | None:
        return self._netset("trusted_networks", loopback=True)

    @cached_property
    def internal_networks(self) -> NetSet | None:
        internal = self._netset("internal_networks", loopback=True)
        trusted = self.trusted_networks
        # SpamAssassin's lint: internal networks must lie inside the trusted ones.
        return internal.restricted_to(trusted) if internal and trusted else internal

    @cached_property
    def msa_networks(self) -> NetSet | None:
        msa = self._netset("msa_networks", loopback=False)  # no implicit loopback for MSAs
        trusted = self.trusted_networks
        return msa.restricted_to(trusted) if msa and trusted else msa


def _bytes_redirector(compiled: regex.Pattern[bytes]) -> RedirectorPattern:
    def unwrap(uri: str) -> str | None:
        m = compiled.search(uri.encode("utf-8", "surrogateescape"))
        if m is None or compiled.groups < 1 or m.group(1) is None:
            return None
        return m.group(1).decode("utf-8", "surrogateescape")

    return unwrap
