"""spamkiln rule compiler: SpamAssassin rule files -> one generated Python module."""
