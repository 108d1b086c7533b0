"""Small helpers shared by the command-line entry points."""

from __future__ import annotations

import sys
from pathlib import Path

from .config import GROUPS, ROOT, options


def fail(error: Exception) -> int:
    """A user error: one line on stderr, exit status 2, nothing run and nothing written."""
    print(f"error: {error}", file=sys.stderr)
    return 2


def relative(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        try:
            return str(path.relative_to(ROOT))
        except ValueError:
            return str(path)


def help_requested(argv: list[str], doc: str | None, groups: tuple[str, ...] = GROUPS) -> bool:
    """True (after printing the command's help) if ``-h`` or ``--help`` is among the arguments."""
    if any(a in ("-h", "--help") for a in argv):
        print_help(doc, groups)
        return True
    return False


def print_help(doc: str | None, groups: tuple[str, ...] = GROUPS) -> None:
    print((doc or "").strip())
    print("\nConfig groups (choose with group=option):")
    width = max(map(len, groups), default=0) + 1
    for group in groups:
        print(f"  {group:<{width}}{', '.join(options(group))}")
    print("\nOverride any key with key=value, e.g. uncertainty.need_coupling=0 residents=20000")
