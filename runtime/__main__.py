"""`python -m spamkiln.runtime` is the `spamkiln` command."""

from .cli import main

main()
