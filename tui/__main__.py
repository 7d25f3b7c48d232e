"""`python -m tui` runs the same thing as the `keylink` command."""

from tui.cli import main

raise SystemExit(main())
