"""`python -m spamkiln.compiler` is `sa-compile`."""

from .cli import main

main()
