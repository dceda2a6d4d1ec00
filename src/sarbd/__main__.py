"""``python -m sarbd`` runs the command line."""

from sarbd.cli import main

main()
