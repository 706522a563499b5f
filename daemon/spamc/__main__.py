"""`python -m spamkiln.daemon.spamc`: the same run as the `spamkiln-spamc` script."""

from spamkiln.daemon.spamc.main import main

main()
