"""What an `if` line can ask: plugins loaded, functions that exist, the version emulated.

spamkiln reads rule files as SpamAssassin 4.0.1 does, so `version` is 4.000001 and the plugin
and feature names are SpamAssassin's. A plugin counts as loaded when a `loadplugin` line named
it; whether spamkiln implements its eval functions is a separate question (`--lint` warns).
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["KNOWN_PLUGINS", "SA_VERSION", "Environment", "canonical_plugin"]

SA_VERSION = 4.000001  # SpamAssassin 4.0.1 as x.yyyzzz: the version the ruleset targets
PERL_VERSION = 5.036000  # Debian 12's perl: what `perl_version` answers there
PLUGIN_PREFIX = "Mail::SpamAssassin::Plugin::"

# The plugins SpamAssassin 4.0.1 ships: `loadplugin` of any other package fails.
KNOWN_PLUGINS = frozenset(
    PLUGIN_PREFIX + n
    for n in [
        "ASN",
        "AWL",
        "AccessDB",
        "AntiVirus",
        "AskDNS",
        "AuthRes",
        "AutoLearnThreshold",
        "Bayes",
        "BodyEval",
        "BodyRuleBaseExtractor",
        "Check",
        "DCC",
        "DKIM",
        "DMARC",
        "DNSEval",
        "DecodeShortURLs",
        "ExtractText",
        "FreeMail",
        "FromNameSpoof",
        "HTMLEval",
        "HTTPSMismatch",
        "HashBL",
        "HeaderEval",
        "ImageInfo",
        "MIMEEval",
        "MIMEHeader",
        "OLEVBMacro",
        "OneLineBodyRuleType",
        "P595Body",
        "PDFInfo",
        "PhishTag",
        "Phishing",
        "Pyzor",
        "Razor2",
        "RelayCountry",
        "RelayEval",
        "ReplaceTags",
        "ResourceLimits",
        "Reuse",
        "Rule2XSBody",
        "SPF",
        "Shortcircuit",
        "SpamCop",
        "Test",
        "TextCat",
        "TxRep",
        "URIDNSBL",
        "URIDetail",
        "URIEval",
        "URILocalBL",
        "VBounce",
        "WLBLEval",
        "WelcomeListSubject",
    ]
)

# Mail::SpamAssassin::Conf functions that exist and return true (rules.md section 3.1).
_CONF_FEATURES = frozenset(
    "Mail::SpamAssassin::Conf::" + n
    for n in [
        "feature_originating_ip_headers",
        "feature_dns_local_ports_permit_avoid",
        "feature_bayes_auto_learn_on_error",
        "feature_uri_host_listed",
        "feature_yesno_takes_args",
        "feature_bug6558_free",
        "feature_edns",
        "feature_dns_query_restriction",
        "feature_registryboundaries",
        "feature_geodb",
        "feature_dns_block_rule",
        "feature_compile_regexp",
        "feature_meta_rules_matching",
        "feature_subjprefix",
        "feature_bayes_stopwords",
        "feature_get_host",
        "feature_blocklist_welcomelist",
        "feature_welcomelist_blocklist",
        "feature_header_address_parser",
        "feature_local_tests_only",
        "feature_header_first_last",
        "feature_header_match_many",
        "feature_capture_rules",
        "has_tflags_nosubject",
        "has_tflags_nolog",
        "perl_min_version_5010000",
    ]
)

# Plugins' own `has_*` one-liners: they exist only while the plugin is loaded.
_PLUGIN_FEATURES: dict[str, frozenset[str]] = {
    PLUGIN_PREFIX + plugin: frozenset(names.split())
    for plugin, names in {
        "AskDNS": "has_tag_header",
        "ASN": "has_asn_lookup_ipv6 has_asn_geodb has_check_asn has_check_asn_tag",
        "BodyEval": "has_check_body_length has_plaintext_body_sig_ratio",
        "DKIM": "has_arc",
        "DNSEval": "has_tflags_domains_only has_tflags_ips_only",
        "DecodeShortURLs": "has_short_url has_autoclean has_short_url_code has_user_agent "
        "has_get has_clear has_timeout has_max_redirections has_short_url_redir",
        "HashBL": "has_hashbl_bodyre has_hashbl_bodyre_num has_hashbl_emails has_hashbl_uris "
        "has_hashbl_ignore has_hashbl_email_regex has_hashbl_email_welcomelist "
        "has_hashbl_email_whitelist has_hashbl_tag has_hashbl_sha256 has_hashbl_attachments "
        "has_hashbl_email_domain has_hashbl_email_domain_alias",
        "MIMEEval": "has_check_for_ascii_text_illegal has_check_abundant_unicode_ratio "
        "has_check_qp_ratio",
        "MIMEHeader": "has_all_header has_tflags_range has_tflags_concat has_tflags_multiple "
        "has_capture_rules",
        "OLEVBMacro": "has_olemacro_redirect_uri has_olemacro_mhtml_uri has_olertfobject",
        "Pyzor": "has_fork has_perl",
        "Razor2": "has_fork",
        "SPF": "has_check_for_spf_errors has_check_spf_skipped_noenvfrom",
        "URIDNSBL": "has_tflags_domains_only has_subtest_for_ranges has_uridnsbl_for_a "
        "has_uridnsbl_a_ns has_tflags_notrim has_uridnsbl_skip_mailto",
        "URIDetail": "has_host_key",
    }.items()
}

_RENAMES = {"::Dmarc": "::DMARC", "::WhiteListSubject": "::WelcomeListSubject"}


def canonical_plugin(package: str) -> str:
    """SpamAssassin renames two packages when loading or testing them."""
    for old, new in _RENAMES.items():
        if package.endswith(old):
            return package[: -len(old)] + new
    return package


@dataclass
class Environment:
    local_tests_only: bool = True
    loaded: set[str] = field(default_factory=set)
    loaded_order: list[str] = field(default_factory=list)
    compat: set[str] = field(default_factory=set)

    def plugin_loaded(self, package: str) -> bool:
        package = canonical_plugin(package)
        return package in self.loaded or package.endswith("::RaciallyCharged")

    def function_exists(self, function: str) -> bool:
        if function in _CONF_FEATURES:
            return True
        if function.startswith("Mail::SpamAssassin::Conf::compat_"):
            return function.rsplit("compat_", 1)[1] in self.compat
        package, _, name = function.rpartition("::")
        package = canonical_plugin(package)
        return package in self.loaded and name in _PLUGIN_FEATURES.get(package, frozenset())

    def word(self, word: str) -> float:
        if word == "version":
            return SA_VERSION
        if word == "perl_version":
            return PERL_VERSION
        return 1.0 if self.local_tests_only else 0.0
