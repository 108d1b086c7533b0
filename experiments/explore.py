"""Start the explorer: an interactive page (Mesa SolaraViz) on localhost.

    .venv/bin/python -m experiments.explore              # http://localhost:8765
    .venv/bin/python -m experiments.explore port=8800

Each browser session gets its own model. The page works offline: its scripts and styles come from the installed
``solara-assets`` package, not a CDN. Stop with Ctrl-C. What to look at and try: docs/INFO.md (the page's
second tab).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

from sim.params import nonneg

from .engine.cli import entry_point, help_requested, own_settings
from .engine.config import ConfigError


@dataclass
class ExplorerSettings:
    port: int = nonneg(8765, 65535)
    host: str = "localhost"


@entry_point
def main(argv: list[str]) -> int:
    if help_requested(argv, __doc__, ()):
        return 0
    args = own_settings(argv, ExplorerSettings)
    if not args.host or any(c.isspace() or c in "/\\" for c in args.host):
        raise ConfigError(f"host: expected a host name or address, got {args.host!r}")
    # Serve the page's JavaScript from the local asset cache; never fetch from a CDN (works offline).
    os.environ.setdefault("SOLARA_ASSETS_PROXY", "true")
    from solara.__main__ import main as solara_main

    from .engine.config import quiet_libraries

    quiet_libraries()
    print(f"placesim explorer: http://{args.host}:{args.port}/  (Ctrl-C to stop)", flush=True)
    sys.argv = ["solara", "run", "experiments.explorer.app:Page", "--host", args.host, "--port", str(args.port),
                "--no-open", "--production", "--log-level", "warning"]
    solara_main()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
