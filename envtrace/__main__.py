"""``python -m envtrace`` runs the command line."""

from envtrace.cli import main

main()
