"""spamkiln runtime: the message model and the scanner that runs a compiled ruleset."""
