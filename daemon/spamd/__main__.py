"""`python -m spamkiln.daemon.spamd`: the same run as the `spamkiln-spamd` script."""

from spamkiln.daemon.spamd.main import main

main()
