"""``python -m bailanys ...``: see ``bailanys.cli``."""

from bailanys.cli import main

raise SystemExit(main())
