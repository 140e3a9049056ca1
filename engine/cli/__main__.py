"""``python -m engine.cli``: the ``dossiersco`` command without the installed script."""

from engine.cli import main

main()
