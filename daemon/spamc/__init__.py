"""spamkiln's spamc: a drop-in for the C spamc 4.0.1 that starts fast (standard library only)."""
