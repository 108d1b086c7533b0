"""Start the explorer: an interactive page (Mesa SolaraViz) on localhost.

    .venv/bin/python -m experiments.explore              # http://localhost:8765
    .venv/bin/python -m experiments.explore --port 8800

Each browser session gets its own model. The page works offline: its scripts and styles come from the installed
``solara-assets`` package, not a CDN. Stop with Ctrl-C. What to look at and try: docs/INFO.md (the page's
second tab).
"""

from __future__ import annotations

import argparse
import os
import sys


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if any(a in ("-h", "--help") for a in argv):
        print(__doc__.strip())
        return 0
    parser = argparse.ArgumentParser(prog="python -m experiments.explore", add_help=False)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--host", default="localhost")
    args = parser.parse_args(argv)
    # Serve the page's JavaScript from the local asset cache; never fetch from a CDN (works offline).
    os.environ.setdefault("SOLARA_ASSETS_PROXY", "true")
    from solara.__main__ import main as solara_main

    from .config import quiet_libraries

    quiet_libraries()
    print(f"placesim explorer: http://{args.host}:{args.port}/  (Ctrl-C to stop)", flush=True)
    sys.argv = ["solara", "run", "experiments.explorer.app:Page", "--host", args.host, "--port", str(args.port),
                "--no-open", "--production", "--log-level", "warning"]
    solara_main()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
