"""``python -m edge``: see :mod:`edge.server`."""

from edge.server import main

main()
