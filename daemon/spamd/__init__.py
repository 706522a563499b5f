"""spamkiln's spamd: a pre-forking SPAMC/SPAMD 1.5 server, a drop-in for SpamAssassin 4.0.1's."""
