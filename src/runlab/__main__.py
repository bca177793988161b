"""``python -m runlab`` runs the command line."""

from .cli import main

main()
