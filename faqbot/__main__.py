"""``python -m faqbot`` runs the command-line interface."""

from faqbot.cli import main

raise SystemExit(main())
