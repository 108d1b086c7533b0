"""What every entry point shares: help, one-line errors, a clean stop on Ctrl-C, and progress.

Every entry point's ``main`` is wrapped by :func:`entry_point`: a :class:`ConfigError` is one line on stderr and
exit status 2 (nothing run, nothing written); Ctrl-C or SIGTERM is one line and status 130 (finished runs are
kept, so the same command resumes); a file-system error is one line and status 1. Progress is a bar on a terminal
and a line every half minute in a log (``progress=auto``), or as ``progress=on|off`` says.
"""

from __future__ import annotations

import functools
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

from .config import GROUPS, ROOT, ConfigError, options

LOG_INTERVAL_SECONDS = 30.0


def fail(error: Exception | str) -> int:
    """A user error: one line on stderr, exit status 2, nothing run and nothing written."""
    print(f"error: {error}", file=sys.stderr)
    return 2


def _stop(signum, frame):
    raise KeyboardInterrupt


def entry_point(main: Callable[[list[str]], int]) -> Callable[[list[str] | None], int]:
    """Wrap an entry point's ``main(argv)``: one-line errors and a clean stop, never a traceback for those."""

    @functools.wraps(main)
    def wrapped(argv: list[str] | None = None) -> int:
        argv = sys.argv[1:] if argv is None else list(argv)
        previous = signal.signal(signal.SIGTERM, _stop)
        try:
            return main(argv)
        except ConfigError as exc:
            return fail(exc)
        except KeyboardInterrupt:
            print("interrupted: runs that finished are kept; the same command resumes from them", file=sys.stderr)
            return 130
        except OSError as exc:
            where = f" {exc.filename}" if getattr(exc, "filename", None) else ""
            print(f"error: cannot write results:{where} {exc.strerror or exc}", file=sys.stderr)
            return 1
        finally:
            signal.signal(signal.SIGTERM, previous)

    return wrapped


def relative(path: Path) -> str:
    for base in (Path.cwd(), ROOT):
        try:
            return str(Path(path).relative_to(base))
        except ValueError:
            continue
    return str(path)


def help_requested(argv: list[str], doc: str | None, groups: tuple[str, ...] = GROUPS) -> bool:
    """True (after printing the command's help) if ``-h`` or ``--help`` is among the arguments."""
    if any(a in ("-h", "--help") for a in argv):
        print_help(doc, groups)
        return True
    return False


def print_help(doc: str | None, groups: tuple[str, ...] = GROUPS) -> None:
    print((doc or "").strip())
    if groups:
        print("\nConfig groups (choose with group=option):")
        width = max(map(len, groups), default=0) + 1
        for group in groups:
            print(f"  {group:<{width}}{', '.join(options(group))}")
    print("\nOverride any key with key=value, e.g. uncertainty.need_coupling=0 residents=20000")


def show_progress(setting: str) -> bool:
    """A live bar: ``on``, or ``auto`` on a terminal."""
    return setting == "on" or (setting == "auto" and sys.stderr.isatty())


class Progress:
    """Counts done out of ``total``: a tqdm bar on a terminal, a line every ``LOG_INTERVAL_SECONDS`` in a log.

    ``setting`` is ``auto`` (bar on a terminal, lines otherwise), ``on`` (always a bar) or ``off`` (silent).
    """

    def __init__(self, total: int, unit: str, setting: str, desc: str = "") -> None:
        self.total, self.unit, self.desc = total, unit, desc or unit
        self.done = self.failed = 0
        self.printed = False  # a log line has been printed (then the end gets one too)
        self.start = self.last_line = time.monotonic()
        self.bar = None
        self.lines = setting == "auto" and not sys.stderr.isatty() and total > 0
        if show_progress(setting) and total > 0:
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit=unit, desc=self.desc, file=sys.stderr, leave=False)

    def update(self, n: int = 1, failed: int = 0) -> None:
        self.done += n
        self.failed += failed
        if self.bar is not None:
            self.bar.update(n)
            if failed:
                self.bar.set_postfix(failed=self.failed)
        elif self.lines:
            now = time.monotonic()
            if now - self.last_line >= LOG_INTERVAL_SECONDS:
                self.last_line = now
                self.printed = True
                self._line(now)

    def _line(self, now: float) -> None:
        elapsed = now - self.start
        left = elapsed / self.done * (self.total - self.done) if self.done else float("nan")
        failed = f", {self.failed} failed" if self.failed else ""
        eta = f", about {_duration(left)} left" if self.done < self.total and self.done else ""
        print(f"{self.desc}: {self.done:,}/{self.total:,} {self.unit} ({self.done / self.total:.0%}){failed}, "
              f"{_duration(elapsed)} elapsed{eta}", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        elif self.printed and self.done:
            self._line(time.monotonic())

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def own_settings(argv: list[str], schema: type):
    """A command's own ``key=value`` settings (no conf/ file), typed and range-checked by ``schema``, a dataclass.

    Unknown keys, wrong types and out-of-range values are one-line :class:`ConfigError` s naming the key.
    """
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    from sim.params import ParamError, check_field

    from .config import check_overrides, explain_error

    check_overrides(argv, groups=())
    base = OmegaConf.structured(schema)
    try:
        cfg = OmegaConf.merge(base, OmegaConf.from_dotlist(argv))
        settings = OmegaConf.to_object(cfg)
    except OmegaConfBaseException as exc:
        raise ConfigError(explain_error(exc, schema())) from None
    import dataclasses

    for f in dataclasses.fields(settings):
        value = getattr(settings, f.name)
        for i, item in enumerate(value if isinstance(value, list) else [value]):
            try:
                check_field(f.name if not isinstance(value, list) else f"{f.name}[{i}]", item, f.metadata)
            except ParamError as exc:
                raise ConfigError(str(exc)) from None
    return settings
