"""`python -m terminal` is `rma`."""

from terminal.cli import main

main()
