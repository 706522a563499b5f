"""The scan-time configuration: the compiled settings plus the objects built from them once.

`sa-compile` wrote every setting as a plain literal; this turns them into what the scanner uses
(registry boundaries, the URI extractor, network sets, compiled redirector patterns) so no
message pays for it. A setting never written reads as SpamAssassin 4.0.1's default, taken from
the directive table.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

import regex

from .directives import ValueType, lookup
from .domains import RegistryBoundaries
from .netset import NetSet
from .uris import RedirectorPattern, UriExtractor

__all__ = ["Config"]

_NO_DEFAULT = object()


@functools.cache
def _default(name: str) -> object:
    """SpamAssassin's default for a scalar setting, typed, from the directive table (the one
    place defaults are written down); _NO_DEFAULT for lists, tables and unknown names."""
    directive = lookup(name)
    if directive is None or directive.default is None:
        return _NO_DEFAULT
    text = directive.default
    if directive.type is ValueType.BOOL:
        return text.lower() in ("1", "yes")
    if directive.type in (ValueType.NUMERIC, ValueType.DURATION) or (
        directive.type is ValueType.SPECIAL and _NUMBER.fullmatch(text)
    ):
        return float(text)
    if directive.type is ValueType.STRING:
        return text
    return _NO_DEFAULT


_NUMBER = re.compile(r"[+-]?\d+(?:\.\d*)?")


# The settings each object Config builds is made from: a Config for a user's preferences shares
# the global one's object while those settings agree (the user-level lines cannot change them,
# and rebuilding the TLD tables alone took 19 ms of a user's first message).
_BUILT_FROM: dict[str, tuple[str, ...]] = {
    "registry": ("util_rb_tld", "util_rb_2tld", "util_rb_3tld"),
    "redirectors": ("redirector_pattern",),
    "uri_extractor": ("util_rb_tld", "util_rb_2tld", "util_rb_3tld", "redirector_pattern"),
    "trusted_networks": ("trusted_networks",),
    "internal_networks": ("internal_networks", "trusted_networks"),
    "msa_networks": ("msa_networks", "trusted_networks"),
}


@dataclass
class Config:
    settings: Mapping[str, object] = field(default_factory=dict)

    def get(self, name: str, default: object = None) -> object:
        if name in self.settings:
            return self.settings[name]
        value = _default(name)
        return default if value is _NO_DEFAULT else value

    def overlay(self, settings: Mapping[str, object]) -> Config:
        """A Config for `settings` (this one's with a user's lines applied) that reuses what
        this one already built from the settings both have alike."""
        derived = Config(settings)
        for name, inputs in _BUILT_FROM.items():
            if name in self.__dict__ and all(
                settings.get(key) == self.settings.get(key) for key in inputs
            ):
                derived.__dict__[name] = self.__dict__[name]
        return derived

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
