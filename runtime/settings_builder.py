"""Apply non-rule directives to settings: sa-compile's global ones and spamd's per-user ones.

Values are checked and stored by their declared type (`directives.ValueType`); the handful of
directives with their own syntax have a handler each in `_SPECIAL`. The result is a dict of plain
literals (numbers, strings, lists, dicts) so the code generator can write it out verbatim. It
lives in the runtime because a user's `user_prefs` lines are applied the same way, at scan
time, on top of a copy of the compiled settings (`user_prefs.py`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Protocol

from .directives import Directive, ValueType, lookup


class Setting(Protocol):
    """One `key value` line (the compiler's IR node, or a user_prefs line)."""

    key: str
    value: str
    src: object  # where it came from, for the messages


class Diagnostics(Protocol):
    def error(self, src: object, message: str) -> None: ...


__all__ = ["Diagnostics", "Setting", "SettingsBuilder", "split_keyword", "uncommented"]

# The first `#` not preceded by a backslash starts a comment (rules.md section 2, step 1).
_COMMENT = re.compile(r"(?<!\\)#.*", re.S)
_NUMERIC = re.compile(r"[+-]?\d+(\.\d*)?")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw]?)", re.I)
_DURATION_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_LIST_NAME = re.compile(r"\(([^)]+)\)\s*(.*)")
_HEADER_NAME = re.compile(r"[\w.-]+")

Handler = Callable[["SettingsBuilder", Setting, Directive], None]


def uncommented(raw: str) -> str:
    """One config line as Conf::Parser reads it, in a rule file or a user_prefs file alike:
    the comment removed, `\\#` turned back into `#`, surrounding space stripped."""
    if "#" in raw:
        raw = _COMMENT.sub("", raw).replace("\\#", "#")
    return raw.strip()


def split_keyword(text: str) -> tuple[str, str]:
    """(keyword lower-cased with `-` as `_`, the stripped rest) of a non-empty line."""
    parts = text.split(None, 1)
    return parts[0].lower().replace("-", "_"), parts[1].strip() if len(parts) > 1 else ""


class SettingsBuilder:
    """Accumulates settings in file order; `values` is what the generated module receives."""

    def __init__(self, diags: Diagnostics) -> None:
        self.diags = diags
        self.values: dict[str, object] = {}

    # ---- entry point ---------------------------------------------------------------------
    def apply(self, node: Setting, loaded_plugins: set[str]) -> bool:
        """Apply one line; False when the keyword is unknown (the caller reports it)."""
        directive = lookup(node.key)
        if directive is None:
            return False
        if directive.owner != "core" and directive.owner not in loaded_plugins:
            return False
        handler = _SPECIAL.get(directive.name)
        if handler is not None:
            handler(self, node, directive)
        else:
            self._by_type(node, directive)
        return True

    # ---- generic value types -------------------------------------------------------------
    def _by_type(self, node: Setting, d: Directive) -> None:
        value, name = node.value, d.name
        t = d.type
        if t is ValueType.NOARGS:
            if value:
                self.diags.error(node.src, f"{node.key} takes no value")
            else:
                self._clear(name)
            return
        if t is ValueType.TEMPLATE:  # an empty template line is an empty line of text
            text = value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else value
            self.values[name] = str(self.values.get(name, "")) + text + "\n"
            return
        if not value:
            self.diags.error(node.src, f"{node.key} needs a value")
            return
        if t is ValueType.NUMERIC:
            if not _NUMERIC.fullmatch(value):
                self.diags.error(node.src, f"{node.key}: not a number: {value!r}")
                return
            self.values[name] = float(value)
        elif t is ValueType.BOOL:
            word = value.split()[0].lower()
            if word not in ("1", "yes", "0", "no"):
                self.diags.error(node.src, f"{node.key}: not a boolean (0/1/yes/no): {value!r}")
                return
            self.values[name] = word in ("1", "yes")
        elif t is ValueType.DURATION:
            m = _DURATION.fullmatch(value)
            if not m:
                self.diags.error(node.src, f"{node.key}: not a duration: {value!r}")
                return
            self.values[name] = float(m.group(1)) * _DURATION_UNITS[m.group(2).lower()]
        elif t is ValueType.STRING:
            self.values[name] = value
        elif t is ValueType.HASH_KV:
            parts = value.split(None, 1)
            # Some hash settings take a bare key (bayes_ignore_header NAME, adsp_override DOM).
            key, rest = parts[0], parts[1] if len(parts) > 1 else ""
            self._dict(name)[key] = rest.strip()
        elif t is ValueType.ADDRLIST:
            self._add_addresses(name, value.split())
        elif t in (ValueType.STRINGLIST, ValueType.IPADDRLIST):
            self._list(name).extend(value.split())
        else:  # SPECIAL without a handler: keep the raw text, in order
            self._list(name).append(value)

    # ---- helpers -------------------------------------------------------------------------
    def _list(self, name: str) -> list:
        return self.values.setdefault(name, [])  # type: ignore[return-value]

    def _dict(self, name: str) -> dict:
        return self.values.setdefault(name, {})  # type: ignore[return-value]

    def _clear(self, action: str) -> None:
        target = _CLEARS.get(action, action.removeprefix("clear_"))
        for name in target if isinstance(target, tuple) else (target,):
            self.values.pop(name, None)

    def _add_addresses(self, name: str, addresses: list[str]) -> None:
        entries = self._list(name)
        for address in addresses:
            if address.lower() not in entries:
                entries.append(address.lower())

    def _remove_addresses(self, names: tuple[str, ...], addresses: list[str]) -> None:
        for name in names:
            entries = self.values.get(name)
            if isinstance(entries, list):
                gone = {a.lower() for a in addresses}
                entries[:] = [
                    e for e in entries if (e[0] if isinstance(e, list) else e) not in gone
                ]


# `clear_*` actions whose target is not simply the name without the prefix.
_CLEARS: dict[str, str | tuple[str, ...]] = {
    "clear_report_template": "report",
    "clear_unsafe_report_template": "unsafe_report",
    "clear_headers": "header_edits",
    "clear_util_rb": ("util_rb_tld", "util_rb_2tld", "util_rb_3tld"),
    "clear_dns_servers": "dns_server",
    "clear_dns_query_restriction": "dns_query_restriction",
}


def _unlist(*targets: str) -> Handler:
    def handler(b: SettingsBuilder, node: Setting, d: Directive) -> None:
        b._remove_addresses(targets, node.value.split())

    return handler


def _with_relay(b: SettingsBuilder, node: Setting, d: Directive) -> None:
    """welcomelist_from_rcvd ADDR RELAY: an address plus the relay it must come through."""
    parts = node.value.split()
    if len(parts) != 2:
        b.diags.error(node.src, f"{node.key}: expected ADDRESS RELAY, got {node.value!r}")
        return
    b._list(d.name).append([parts[0].lower(), parts[1].lower()])


def _named_list(b: SettingsBuilder, node: Setting, d: Directive) -> None:
    """enlist_addrlist (LIST) addr ... and enlist_uri_host (LIST) host ..."""
    m = _LIST_NAME.fullmatch(node.value)
    if not m or not m.group(2).split():
        b.diags.error(node.src, f"{node.key}: expected (LISTNAME) entries..., got {node.value!r}")
        return
    entries = b._dict(d.name).setdefault(m.group(1).strip(), [])
    if d.name == "enlist_uri_host":
        _set_hosts(entries, m.group(2).split())
        return
    for entry in m.group(2).split():
        entry = entry.lower()
        if entry not in entries:
            entries.append(entry)


def _set_hosts(entries: list[str], hosts: list[str]) -> None:
    """A URI host list maps each host to listed (`host`) or not (`!host`): the last line wins,
    so a host's earlier entry, in either form, gives way to the new one."""
    for host in hosts:
        host = host.lower()
        bare = host.removeprefix("!")
        entries[:] = [e for e in entries if e.removeprefix("!") != bare]
        entries.append(host)


def _subject_glob(b: SettingsBuilder, node: Setting, d: Directive) -> None:
    """welcomelist_subject / blocklist_subject: the whole rest of the line is one glob, spaces
    and all (SpamAssassin's WelcomeListSubject keys its list by the lower-cased value)."""
    if not node.value:
        b.diags.error(node.src, f"{node.key} needs a value")
        return
    entries = b._list(d.name)
    if node.value.lower() not in entries:
        entries.append(node.value.lower())


def _delist(b: SettingsBuilder, node: Setting, d: Directive) -> None:
    m = _LIST_NAME.fullmatch(node.value)
    lists = b._dict("enlist_uri_host")
    names = [m.group(1).strip()] if m else list(lists)
    hosts = (m.group(2) if m else node.value).lower().split()
    for name in names:
        if name in lists:
            lists[name] = [h for h in lists[name] if h.lstrip("!") not in hosts]


def _uri_host_shorthand(list_name: str) -> Handler:
    def handler(b: SettingsBuilder, node: Setting, d: Directive) -> None:
        _set_hosts(b._dict("enlist_uri_host").setdefault(list_name, []), node.value.split())

    return handler


def _add_header(b: SettingsBuilder, node: Setting, d: Directive) -> None:
    """add_header {spam|ham|all} Name template..."""
    parts = node.value.split(None, 2)
    if len(parts) < 3 or parts[0].lower() not in ("spam", "ham", "all"):
        b.diags.error(node.src, f"add_header: expected spam|ham|all NAME TEXT: {node.value!r}")
        return
    if not _HEADER_NAME.fullmatch(parts[1]):
        b.diags.error(node.src, f"add_header: invalid header name {parts[1]!r}")
        return
    text = parts[2]
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    b._list("header_edits").append(["add", parts[0].lower(), parts[1], text])


def _remove_header(b: SettingsBuilder, node: Setting, d: Directive) -> None:
    parts = node.value.split()
    if len(parts) != 2 or parts[0].lower() not in ("spam", "ham", "all"):
        b.diags.error(node.src, f"remove_header: expected spam|ham|all NAME: {node.value!r}")
        return
    b._list("header_edits").append(["remove", parts[0].lower(), parts[1]])


def _report_safe(b: SettingsBuilder, node: Setting, d: Directive) -> None:
    """report_safe 0|1|2. Turning it off adds the Report header to the spam list right there,
    between the add_header lines before and after it, unless one is listed already."""
    if node.value not in ("0", "1", "2"):
        b.diags.error(node.src, f"report_safe: expected 0, 1 or 2, got {node.value!r}")
        return
    b.values["report_safe"] = float(node.value)
    edits = b._list("header_edits")
    if node.value == "0" and "report" not in _spam_header_names(edits):
        edits.append(["add", "spam", "Report", "_REPORT_"])


def _spam_header_names(edits: list[list[str]]) -> set[str]:
    names: set[str] = set()
    for op, when, name, *_ in edits:
        if when in ("spam", "all"):
            if op == "add":
                names.add(name.lower())
            else:
                names.discard(name.lower())
    return names


def _rewrite_header(b: SettingsBuilder, node: Setting, d: Directive) -> None:
    parts = node.value.split(None, 1)
    if len(parts) != 2 or parts[0].lower() not in ("subject", "from", "to"):
        b.diags.error(node.src, f"rewrite_header: expected Subject|From|To TEXT: {node.value!r}")
        return
    b._dict("rewrite_header")[parts[0].capitalize()] = parts[1]


def _tld_list(b: SettingsBuilder, node: Setting, d: Directive) -> None:
    words = node.value.lower().split()
    if not words:
        b.diags.error(node.src, f"{node.key} needs a value")
        return
    b._list(d.name).extend(words)


def _ignore(b: SettingsBuilder, node: Setting, d: Directive) -> None:
    """Directives with no effect at scan time (regression tests, build markers)."""


def _plugin(b: SettingsBuilder, node: Setting, d: Directive) -> None:
    package = node.value.split()[0] if node.value else ""
    plugins = b._list("loadplugin")
    if package and package not in plugins:
        plugins.append(package)


def _freemail(b: SettingsBuilder, node: Setting, d: Directive) -> None:
    b._add_addresses(d.name, node.value.split())


def _replace_rules(b: SettingsBuilder, node: Setting, d: Directive) -> None:
    names = node.value.split()
    if not names:
        b.diags.error(node.src, "replace_rules needs rule names")
    b._list("replace_rules").extend(names)


_SPECIAL: dict[str, Handler] = {
    "unwelcomelist_from": _unlist("welcomelist_from"),
    "unblocklist_from": _unlist("blocklist_from"),
    "unwelcomelist_from_rcvd": _unlist("welcomelist_from_rcvd", "def_welcomelist_from_rcvd"),
    "unwelcomelist_auth": _unlist("welcomelist_auth", "def_welcomelist_auth"),
    "unwelcomelist_from_spf": _unlist("welcomelist_from_spf", "def_welcomelist_from_spf"),
    "unwelcomelist_from_dkim": _unlist("welcomelist_from_dkim", "def_welcomelist_from_dkim"),
    "welcomelist_from_rcvd": _with_relay,
    "def_welcomelist_from_rcvd": _with_relay,
    "welcomelist_subject": _subject_glob,
    "blocklist_subject": _subject_glob,
    "enlist_addrlist": _named_list,
    "enlist_uri_host": _named_list,
    "delist_uri_host": _delist,
    "blocklist_uri_host": _uri_host_shorthand("BLOCK"),
    "welcomelist_uri_host": _uri_host_shorthand("WELCOME"),
    "add_header": _add_header,
    "report_safe": _report_safe,
    "remove_header": _remove_header,
    "rewrite_header": _rewrite_header,
    "util_rb_tld": _tld_list,
    "util_rb_2tld": _tld_list,
    "util_rb_3tld": _tld_list,
    "test": _ignore,
    "version_tag": _ignore,
    "enable_compat": _ignore,
    "loadplugin": _plugin,
    "tryplugin": _plugin,
    "freemail_domains": _freemail,
    "freemail_welcomelist": _freemail,
    "replace_rules": _replace_rules,
    "uridnsbl_skip_domain": _tld_list,
    "clear_uridnsbl_skip_domain": _ignore,
}
