"""spamkiln daemon: spamd and spamc, speaking SPAMC/SPAMD 1.5."""
