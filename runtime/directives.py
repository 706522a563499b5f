"""The directive table: every configuration keyword spamkiln knows, with its value type.

Declarative, like gunicorn's settings: name, type, owning plugin, who may set it, old aliases and
the default. The assembler applies values by type, `--lint` reports unknown keywords from it, and
spamd's per-user configuration checks the level. The facts come from SpamAssassin 4.0.1's command
tables as ../shared/spec/config.md (Appendix A) lists them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Literal

__all__ = ["CORE", "DIRECTIVES", "Directive", "ValueType", "lookup"]

CORE = "core"
_PLUGIN_PREFIX = "Mail::SpamAssassin::Plugin::"


class ValueType(Enum):
    NUMERIC = "numeric"  # ^[+-]?\d+(\.\d*)?$
    BOOL = "bool"  # 1/yes or 0/no
    DURATION = "duration"  # number with an optional s/m/h/d/w suffix
    STRING = "string"  # any non-empty rest of line
    TEMPLATE = "template"  # appended, with a newline; one pair of quotes stripped
    HASH_KV = "hash_kv"  # KEY rest: later lines replace the value of KEY
    ADDRLIST = "addrlist"  # whitespace-separated address globs
    STRINGLIST = "stringlist"  # whitespace-separated items, appended
    IPADDRLIST = "ipaddrlist"  # whitespace-separated networks, appended
    NOARGS = "noargs"  # no value: an action (usually clearing a list)
    SPECIAL = "special"  # its own parser (rules, score, add_header, util_rb_*, ...)


NUMERIC, BOOL, DURATION, STRING, TEMPLATE = (
    ValueType.NUMERIC,
    ValueType.BOOL,
    ValueType.DURATION,
    ValueType.STRING,
    ValueType.TEMPLATE,
)
HASH_KV, ADDRLIST, STRINGLIST, IPADDRLIST, NOARGS, SPECIAL = (
    ValueType.HASH_KV,
    ValueType.ADDRLIST,
    ValueType.STRINGLIST,
    ValueType.IPADDRLIST,
    ValueType.NOARGS,
    ValueType.SPECIAL,
)

Level = Literal["user", "priv", "admin"]


@dataclass(frozen=True, slots=True)
class Directive:
    name: str
    type: ValueType
    owner: str  # "core" or the plugin package that registers it
    level: Level  # user: allowed in user prefs; priv: needs allow_user_rules; admin: never
    aliases: tuple[str, ...] = ()
    default: str | None = None


def _d(
    name: str,
    type_: ValueType,
    owner: str,
    level: Level,
    aliases: tuple[str, ...] = (),
    default: str | None = None,
) -> Directive:
    full_owner = owner if owner == CORE else _PLUGIN_PREFIX + owner
    return Directive(name, type_, full_owner, level, aliases, default)


DIRECTIVES: tuple[Directive, ...] = (
    _d("required_score", NUMERIC, CORE, "user", aliases=("required_hits",), default="5"),
    _d("score", SPECIAL, CORE, "user"),
    _d("welcomelist_from", ADDRLIST, CORE, "user", aliases=("whitelist_from",)),
    _d("unwelcomelist_from", ADDRLIST, CORE, "user", aliases=("unwhitelist_from",)),
    _d("welcomelist_from_rcvd", ADDRLIST, CORE, "user", aliases=("whitelist_from_rcvd",)),
    _d("def_welcomelist_from_rcvd", ADDRLIST, CORE, "user", aliases=("def_whitelist_from_rcvd",)),
    _d("welcomelist_allows_relays", ADDRLIST, CORE, "user", aliases=("whitelist_allows_relays",)),
    _d("unwelcomelist_from_rcvd", ADDRLIST, CORE, "user", aliases=("unwhitelist_from_rcvd",)),
    _d("blocklist_from", ADDRLIST, CORE, "user", aliases=("blacklist_from",)),
    _d("unblocklist_from", ADDRLIST, CORE, "user", aliases=("unblacklist_from",)),
    _d("welcomelist_to", ADDRLIST, CORE, "user", aliases=("whitelist_to",)),
    _d("more_spam_to", ADDRLIST, CORE, "user"),
    _d("all_spam_to", ADDRLIST, CORE, "user"),
    _d("blocklist_to", ADDRLIST, CORE, "user", aliases=("blacklist_to",)),
    _d("welcomelist_auth", ADDRLIST, CORE, "user", aliases=("whitelist_auth",)),
    _d("def_welcomelist_auth", ADDRLIST, CORE, "user", aliases=("def_whitelist_auth",)),
    _d("unwelcomelist_auth", ADDRLIST, CORE, "user", aliases=("unwhitelist_auth",)),
    _d("enlist_uri_host", HASH_KV, CORE, "user"),
    _d("delist_uri_host", HASH_KV, CORE, "user"),
    _d("enlist_addrlist", ADDRLIST, CORE, "user"),
    _d("blocklist_uri_host", HASH_KV, CORE, "user", aliases=("blacklist_uri_host",)),
    _d("welcomelist_uri_host", HASH_KV, CORE, "user", aliases=("whitelist_uri_host",)),
    _d("rewrite_header", HASH_KV, CORE, "user"),
    _d("subjprefix", HASH_KV, CORE, "user"),
    _d("add_header", SPECIAL, CORE, "user"),
    _d("remove_header", SPECIAL, CORE, "user"),
    _d("clear_headers", NOARGS, CORE, "user"),
    _d("report_safe", SPECIAL, CORE, "user", default="1"),  # also edits the header list
    _d("report_wrap_width", NUMERIC, CORE, "user", default="75"),
    _d("ok_locales", STRING, CORE, "user", default="all"),
    _d("normalize_charset", BOOL, CORE, "user", default="1"),
    _d("trusted_networks", IPADDRLIST, CORE, "user"),
    _d("clear_trusted_networks", NOARGS, CORE, "user"),
    _d("internal_networks", IPADDRLIST, CORE, "user"),
    _d("clear_internal_networks", NOARGS, CORE, "user"),
    _d("msa_networks", IPADDRLIST, CORE, "user"),
    _d("clear_msa_networks", NOARGS, CORE, "user"),
    _d("originating_ip_headers", STRINGLIST, CORE, "user", default="[]"),
    _d("clear_originating_ip_headers", NOARGS, CORE, "user"),
    _d("always_trust_envelope_sender", BOOL, CORE, "user", default="0"),
    _d("skip_rbl_checks", BOOL, CORE, "user", default="0"),
    _d("dns_available", STRING, CORE, "user", default="yes"),
    _d("dns_server", STRING, CORE, "user"),
    _d("clear_dns_servers", NOARGS, CORE, "user"),
    _d("dns_local_ports_permit", STRING, CORE, "admin"),
    _d("dns_local_ports_avoid", STRING, CORE, "admin"),
    _d("dns_local_ports_none", NOARGS, CORE, "admin"),
    _d("dns_test_interval", DURATION, CORE, "user", default="600"),
    _d("dns_options", HASH_KV, CORE, "user", default="v4 v6 norotate nodns0x20 edns=4096"),
    _d("dns_query_restriction", STRING, CORE, "user"),
    _d(
        "clear_dns_query_restriction",
        NOARGS,
        CORE,
        "user",
        aliases=("clear_dns_query_restrictions",),
    ),
    _d("dns_block_rule", HASH_KV, CORE, "admin"),
    _d("dns_block_time", NUMERIC, CORE, "admin", default="300"),
    _d("use_learner", BOOL, CORE, "user", default="1"),
    _d("use_bayes", BOOL, CORE, "user", default="1"),
    _d("use_bayes_rules", BOOL, CORE, "user", default="1"),
    _d("bayes_auto_learn", BOOL, CORE, "user", default="1"),
    _d("bayes_token_sources", HASH_KV, CORE, "user", default="header visible invisible uri"),
    _d("bayes_ignore_header", HASH_KV, CORE, "user"),
    _d("bayes_ignore_from", ADDRLIST, CORE, "user"),
    _d("bayes_ignore_to", ADDRLIST, CORE, "user"),
    _d("bayes_min_ham_num", NUMERIC, CORE, "user", default="200"),
    _d("bayes_min_spam_num", NUMERIC, CORE, "user", default="200"),
    _d("bayes_learn_during_report", BOOL, CORE, "user", default="1"),
    _d("bayes_sql_override_username", STRING, CORE, "user"),
    _d("bayes_use_hapaxes", BOOL, CORE, "user", default="1"),
    _d("bayes_journal_max_size", NUMERIC, CORE, "user", default="102400"),
    _d("bayes_expiry_max_db_size", NUMERIC, CORE, "user", default="150000"),
    _d("bayes_auto_expire", BOOL, CORE, "user", default="1"),
    _d("bayes_token_ttl", DURATION, CORE, "user", default="1814400"),
    _d("bayes_seen_ttl", DURATION, CORE, "user", default="691200"),
    _d("bayes_learn_to_journal", BOOL, CORE, "user", default="0"),
    _d("time_limit", DURATION, CORE, "user", default="300"),
    _d("lock_method", STRING, CORE, "user"),
    _d("fold_headers", BOOL, CORE, "user", default="1"),
    _d("report_safe_copy_headers", STRINGLIST, CORE, "user", default="[]"),
    _d("envelope_sender_header", STRING, CORE, "user"),
    _d("describe", HASH_KV, CORE, "user"),
    _d("report_charset", STRING, CORE, "user", default="UTF-8"),
    _d("report", TEMPLATE, CORE, "user"),
    _d("clear_report_template", NOARGS, CORE, "user"),
    _d("report_contact", STRING, CORE, "user", default="the administrator of that system"),
    _d("report_hostname", STRING, CORE, "user"),
    _d("unsafe_report", TEMPLATE, CORE, "user"),
    _d("clear_unsafe_report_template", NOARGS, CORE, "user"),
    _d("mbox_format_from_regex", STRING, CORE, "user"),
    _d("parse_dkim_uris", BOOL, CORE, "user", default="1"),
    _d("allow_user_rules", BOOL, CORE, "priv", default="0"),
    _d("redirector_pattern", STRINGLIST, CORE, "priv", default="[]"),
    _d("header", SPECIAL, CORE, "priv"),
    _d("body", SPECIAL, CORE, "priv"),
    _d("uri", SPECIAL, CORE, "priv"),
    _d("rawbody", SPECIAL, CORE, "priv"),
    _d("full", SPECIAL, CORE, "priv"),
    _d("meta", SPECIAL, CORE, "priv"),
    _d("reuse", SPECIAL, "Reuse", "priv"),
    _d("tflags", HASH_KV, CORE, "priv"),
    _d("priority", HASH_KV, CORE, "priv"),
    _d("version_tag", SPECIAL, CORE, "admin"),
    _d("test", SPECIAL, CORE, "admin"),
    _d("body_part_scan_size", NUMERIC, CORE, "admin", default="50000"),
    _d("rawbody_part_scan_size", NUMERIC, CORE, "admin", default="500000"),
    _d("rbl_timeout", DURATION, CORE, "admin", default="15"),
    _d("util_rb_tld", SPECIAL, CORE, "admin"),
    _d("util_rb_2tld", SPECIAL, CORE, "admin"),
    _d("util_rb_3tld", SPECIAL, CORE, "admin"),
    _d("clear_util_rb", NOARGS, CORE, "user"),
    _d("bayes_path", STRING, CORE, "admin", default="__userstate__/bayes"),
    _d("bayes_file_mode", NUMERIC, CORE, "admin", default="0700"),
    _d("bayes_store_module", STRING, CORE, "admin"),
    _d("bayes_sql_dsn", STRING, CORE, "admin"),
    _d("bayes_sql_username", STRING, CORE, "admin"),
    _d("bayes_sql_password", STRING, CORE, "admin"),
    _d("bayes_sql_username_authorized", BOOL, CORE, "admin", default="0"),
    _d("user_scores_dsn", STRING, CORE, "admin"),
    _d("user_scores_sql_username", STRING, CORE, "admin"),
    _d("user_scores_sql_password", STRING, CORE, "admin"),
    _d("user_scores_sql_custom_query", STRING, CORE, "admin"),
    _d("user_scores_ldap_username", STRING, CORE, "admin"),
    _d("user_scores_ldap_password", STRING, CORE, "admin"),
    _d("user_scores_fallback_to_global", BOOL, CORE, "admin", default="1"),
    _d("loadplugin", SPECIAL, CORE, "admin"),
    _d("tryplugin", SPECIAL, CORE, "admin"),
    _d("ignore_always_matching_regexps", BOOL, CORE, "admin", default="0"),
    _d("geodb_module", STRING, CORE, "admin"),
    _d("country_db_type", STRING, CORE, "admin"),
    _d("geodb_options", HASH_KV, CORE, "admin", default="{}"),
    _d("geodb_search_path", STRINGLIST, CORE, "admin", default="[]"),
    _d("country_db_path", STRING, CORE, "admin"),
    _d("uri_country_db_path", STRING, CORE, "admin"),
    _d("uri_country_db_isp_path", STRING, CORE, "admin"),
    _d("require_version", STRING, CORE, "user"),
    _d("enable_compat", SPECIAL, CORE, "admin"),
    _d("skip_uribl_checks", BOOL, "URIDNSBL", "user", default="0"),
    _d("uridnsbl_skip_mailto", BOOL, "URIDNSBL", "admin", default="1"),
    _d("uridnsbl_max_domains", NUMERIC, "URIDNSBL", "admin", default="20"),
    _d("uridnsbl", SPECIAL, "URIDNSBL", "priv"),
    _d("uridnssub", SPECIAL, "URIDNSBL", "priv"),
    _d("urirhsbl", SPECIAL, "URIDNSBL", "priv"),
    _d("urirhssub", SPECIAL, "URIDNSBL", "priv"),
    _d("urinsrhsbl", SPECIAL, "URIDNSBL", "priv"),
    _d("urinsrhssub", SPECIAL, "URIDNSBL", "priv"),
    _d("urifullnsrhsbl", SPECIAL, "URIDNSBL", "priv"),
    _d("urifullnsrhssub", SPECIAL, "URIDNSBL", "priv"),
    _d("uridnsbl_skip_domain", HASH_KV, "URIDNSBL", "user", default="{}"),
    _d("clear_uridnsbl_skip_domain", HASH_KV, "URIDNSBL", "user"),
    _d("uridnsbl_timeout", SPECIAL, "URIDNSBL", "user"),
    _d("welcomelist_from_spf", ADDRLIST, "SPF", "user", aliases=("whitelist_from_spf",)),
    _d("def_welcomelist_from_spf", ADDRLIST, "SPF", "user", aliases=("def_whitelist_from_spf",)),
    _d("unwelcomelist_from_spf", ADDRLIST, "SPF", "user", aliases=("unwhitelist_from_spf",)),
    _d("spf_timeout", DURATION, "SPF", "admin", default="5"),
    _d("ignore_received_spf_header", BOOL, "SPF", "admin", default="0"),
    _d("use_newest_received_spf_header", BOOL, "SPF", "admin", default="0"),
    _d("do_not_use_mail_spf", BOOL, "SPF", "admin", default="0"),
    _d("do_not_use_mail_spf_query", BOOL, "SPF", "admin", default="1"),
    _d("use_pyzor", BOOL, "Pyzor", "user", default="1"),
    _d("pyzor_count_min", NUMERIC, "Pyzor", "user", default="5"),
    _d("pyzor_max", NUMERIC, "Pyzor", "user"),
    _d(
        "pyzor_welcomelist_min",
        NUMERIC,
        "Pyzor",
        "user",
        aliases=("pyzor_whitelist_min",),
        default="10",
    ),
    _d(
        "pyzor_welcomelist_factor",
        NUMERIC,
        "Pyzor",
        "user",
        aliases=("pyzor_whitelist_factor",),
        default="0.2",
    ),
    _d("pyzor_fork", NUMERIC, "Pyzor", "admin", default="1"),
    _d("pyzor_perl", NUMERIC, "Pyzor", "admin", default="0"),
    _d("pyzor_timeout", DURATION, "Pyzor", "admin", default="5"),
    _d("pyzor_options", STRING, "Pyzor", "admin"),
    _d("pyzor_path", STRING, "Pyzor", "admin"),
    _d("pyzor_server_file", STRING, "Pyzor", "admin"),
    _d("use_razor2", NUMERIC, "Razor2", "user", default="1"),
    _d("razor_fork", NUMERIC, "Razor2", "admin", default="1"),
    _d("razor_timeout", DURATION, "Razor2", "admin", default="5"),
    _d("razor_config", STRING, "Razor2", "admin"),
    _d("spamcop_from_address", STRING, "SpamCop", "user"),
    _d(
        "spamcop_to_address",
        STRING,
        "SpamCop",
        "user",
        default="spamassassin-submit@spam.spamcop.net",
    ),
    _d("spamcop_max_report_size", NUMERIC, "SpamCop", "user", default="50"),
    _d("spamcop_relayhost", STRING, "SpamCop", "user"),
    _d("bayes_auto_learn_threshold_nonspam", NUMERIC, "AutoLearnThreshold", "user", default="0.1"),
    _d("bayes_auto_learn_threshold_spam", NUMERIC, "AutoLearnThreshold", "user", default="12"),
    _d("bayes_auto_learn_on_error", BOOL, "AutoLearnThreshold", "user", default="0"),
    _d(
        "welcomelist_subject",
        SPECIAL,  # one glob per line, spaces included (the spec says addrlist)
        "WelcomeListSubject",
        "user",
        aliases=("whitelist_subject",),
        default="{}",
    ),
    _d(
        "blocklist_subject",
        SPECIAL,  # one glob per line, spaces included (the spec says addrlist)
        "WelcomeListSubject",
        "user",
        aliases=("blacklist_subject",),
        default="{}",
    ),
    _d("mimeheader", SPECIAL, "MIMEHeader", "priv"),
    _d("replace_tag", HASH_KV, "ReplaceTags", "priv"),
    _d("replace_pre", HASH_KV, "ReplaceTags", "priv"),
    _d("replace_inter", HASH_KV, "ReplaceTags", "priv"),
    _d("replace_post", HASH_KV, "ReplaceTags", "priv"),
    _d("replace_rules", HASH_KV, "ReplaceTags", "priv", default="(none)"),
    _d("replace_start", STRING, "ReplaceTags", "priv", default="<"),
    _d("replace_end", STRING, "ReplaceTags", "priv", default=">"),
    _d("welcomelist_from_dkim", ADDRLIST, "DKIM", "user", aliases=("whitelist_from_dkim",)),
    _d("def_welcomelist_from_dkim", ADDRLIST, "DKIM", "user", aliases=("def_whitelist_from_dkim",)),
    _d("unwelcomelist_from_dkim", ADDRLIST, "DKIM", "user", aliases=("unwhitelist_from_dkim",)),
    _d("adsp_override", HASH_KV, "DKIM", "user"),
    _d("dkim_minimum_key_bits", NUMERIC, "DKIM", "user", default="1024"),
    _d("dkim_timeout", DURATION, "DKIM", "admin", default="5"),
    _d("uri_detail", SPECIAL, "URIDetail", "priv"),
    _d("bayes_max_token_length", NUMERIC, "Bayes", "user", default="15"),
    _d("bayes_stopword_languages", STRINGLIST, "Bayes", "user", default="[en]"),
    _d(
        "rbl_headers",
        STRING,
        "DNSEval",
        "priv",
        default="EnvelopeFrom,Reply-To,Disposition-Notificatio...",
    ),
    _d(
        "welcomelist_bounce_relays",
        ADDRLIST,
        "VBounce",
        "user",
        aliases=("whitelist_bounce_relays",),
    ),
    _d("freemail_max_body_emails", NUMERIC, "FreeMail", "user", default="5"),
    _d("freemail_max_body_freemails", NUMERIC, "FreeMail", "user", default="3"),
    _d("freemail_skip_when_over_max", NUMERIC, "FreeMail", "user", default="1"),
    _d("freemail_skip_bulk_envfrom", NUMERIC, "FreeMail", "user", default="1"),
    _d("freemail_add_describe_email", NUMERIC, "FreeMail", "user", default="1"),
    _d(
        "freemail_import_welcomelist_auth",
        NUMERIC,
        "FreeMail",
        "user",
        aliases=("freemail_import_whitelist_auth",),
        default="0",
    ),
    _d(
        "freemail_import_def_welcomelist_auth",
        NUMERIC,
        "FreeMail",
        "user",
        aliases=("freemail_import_def_whitelist_auth",),
        default="0",
    ),
    _d("askdns", HASH_KV, "AskDNS", "priv"),
    _d("hashbl_ignore", HASH_KV, "HashBL", "user", default="{}"),
    _d("hashbl_email_domain_alias", HASH_KV, "HashBL", "user", default="{}"),
    _d("hashbl_email_regex", STRING, "HashBL", "user", default="(built-in regex)"),
    _d(
        "hashbl_email_welcomelist",
        STRING,
        "HashBL",
        "user",
        aliases=("hashbl_email_whitelist",),
        default="(built-in regex)",
    ),
    _d("dmarc_save_reports", BOOL, "DMARC", "admin", default="0"),
    _d("use_auto_welcomelist", BOOL, "AWL", "user", aliases=("use_auto_whitelist",), default="1"),
    _d(
        "auto_welcomelist_factor",
        NUMERIC,
        "AWL",
        "user",
        aliases=("auto_whitelist_factor",),
        default="0.5",
    ),
    _d(
        "auto_welcomelist_ipv4_mask_len",
        NUMERIC,
        "AWL",
        "user",
        aliases=("auto_whitelist_ipv4_mask_len",),
        default="16",
    ),
    _d(
        "auto_welcomelist_ipv6_mask_len",
        NUMERIC,
        "AWL",
        "user",
        aliases=("auto_whitelist_ipv6_mask_len",),
        default="48",
    ),
    _d("user_awl_sql_override_username", STRING, "AWL", "user"),
    _d(
        "auto_welcomelist_distinguish_signed",
        BOOL,
        "AWL",
        "user",
        aliases=("auto_whitelist_distinguish_signed",),
        default="0",
    ),
    _d(
        "auto_welcomelist_factory",
        STRING,
        "AWL",
        "admin",
        aliases=("auto_whitelist_factory",),
        default="Mail::SpamAssassin::DBBasedAddrList",
    ),
    _d(
        "auto_welcomelist_path",
        STRING,
        "AWL",
        "admin",
        aliases=("auto_whitelist_path",),
        default="__userstate__/auto-welcomelist",
    ),
    _d(
        "auto_welcomelist_db_modules",
        STRING,
        "AWL",
        "admin",
        aliases=("auto_whitelist_db_modules",),
        default="DB_File GDBM_File SDBM_File",
    ),
    _d(
        "auto_welcomelist_file_mode",
        NUMERIC,
        "AWL",
        "admin",
        aliases=("auto_whitelist_file_mode",),
        default="0700",
    ),
    _d("user_awl_dsn", STRING, "AWL", "admin"),
    _d("user_awl_sql_username", STRING, "AWL", "admin"),
    _d("user_awl_sql_password", STRING, "AWL", "admin"),
    _d("user_awl_sql_table", STRING, "AWL", "admin", default="awl"),
    _d("use_txrep", BOOL, "TxRep", "user", default="0"),
    _d("txrep_factor", NUMERIC, "TxRep", "user", default="0.5"),
    _d("txrep_dilution_factor", NUMERIC, "TxRep", "user", default="0.98"),
    _d("txrep_expiry_days", NUMERIC, "TxRep", "user", default="365"),
    _d("txrep_learn_penalty", NUMERIC, "TxRep", "user", default="20"),
    _d("txrep_learn_bonus", NUMERIC, "TxRep", "user", default="20"),
    _d("txrep_autolearn", NUMERIC, "TxRep", "user", default="0"),
    _d("txrep_track_messages", BOOL, "TxRep", "user", default="1"),
    _d(
        "txrep_welcomelist_out",
        NUMERIC,
        "TxRep",
        "user",
        aliases=("txrep_whitelist_out",),
        default="10",
    ),
    _d("txrep_ipv4_mask_len", NUMERIC, "TxRep", "user", default="16"),
    _d("txrep_ipv6_mask_len", NUMERIC, "TxRep", "user", default="48"),
    _d("txrep_user2global_ratio", STRING, "TxRep", "user", default="0"),
    _d("txrep_spf", BOOL, "TxRep", "user", default="1"),
    _d("txrep_weight_email", NUMERIC, "TxRep", "user", default="3"),
    _d("txrep_weight_email_ip", NUMERIC, "TxRep", "user", default="10"),
    _d("txrep_weight_domain", NUMERIC, "TxRep", "user", default="2"),
    _d("txrep_weight_ip", NUMERIC, "TxRep", "user", default="4"),
    _d("txrep_weight_helo", NUMERIC, "TxRep", "user", default="0.5"),
    _d("txrep_report_details", NUMERIC, "TxRep", "user", default="0"),
    _d("txrep_factory", STRING, "TxRep", "admin", default="Mail::SpamAssassin::DBBasedAddrList"),
    _d("shortcircuit", SPECIAL, "Shortcircuit", "user"),
    _d("shortcircuit_spam_score", NUMERIC, "Shortcircuit", "user", default="100"),
    _d("shortcircuit_ham_score", NUMERIC, "Shortcircuit", "user", default="-100"),
    _d("shortcircuit_min_ham_score", NUMERIC, "Shortcircuit", "user"),
    _d("shortcircuit_max_spam_score", NUMERIC, "Shortcircuit", "user"),
    _d("lang", SPECIAL, CORE, "user"),
    _d("include", SPECIAL, CORE, "admin"),
    _d("freemail_domains", STRINGLIST, "FreeMail", "user"),
    _d("freemail_welcomelist", STRINGLIST, "FreeMail", "user", aliases=("freemail_whitelist",)),
    _d("ok_languages", STRING, "TextCat", "user", default="all"),
)

_BY_NAME: dict[str, Directive] = {}
for _entry in DIRECTIVES:
    _BY_NAME[_entry.name] = _entry
    for _alias in _entry.aliases:
        _BY_NAME.setdefault(_alias, _entry)

# Plugins accept a few keyword families through their parse_config hook rather than a table.
_PREFIX_FAMILIES: tuple[tuple[str, Directive], ...] = (
    ("bayes_stopword_", _d("bayes_stopword_", STRINGLIST, "Bayes", "user")),
    ("hashbl_acl_", _d("hashbl_acl_", STRINGLIST, "HashBL", "user")),
)


def lookup(key: str) -> Directive | None:
    """The directive for a normalised keyword, aliases and keyword families included."""
    found = _BY_NAME.get(key)
    if found is not None:
        return found
    for prefix, family in _PREFIX_FAMILIES:
        if key.startswith(prefix) and len(key) > len(prefix):
            return family
    return None
