"""What every entry point shares (experiments/engine/cli.py): progress in a log, and the clean stop."""

from __future__ import annotations

from experiments.engine import cli
from experiments.engine.config import ConfigError


def test_progress_prints_a_line_at_intervals_when_not_a_terminal(monkeypatch, capsys):
    """Under nohup or in CI (stderr is not a terminal), progress=auto prints a line every interval and one at the
    end; progress=off prints nothing."""
    monkeypatch.setattr(cli, "LOG_INTERVAL_SECONDS", 0.0)
    with cli.Progress(3, "runs", "auto", "Sweep x") as bar:
        for _ in range(3):
            bar.update(1)
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[0].startswith("Sweep x: 1/3 runs (33%)") and lines[-1].startswith("Sweep x: 3/3 runs (100%)")
    with cli.Progress(3, "runs", "off") as bar:
        bar.update(3)
    assert capsys.readouterr().err == ""


def test_a_quick_job_logs_nothing(capsys):
    """A job shorter than one interval prints no progress lines at all (no noise in a quick run's output)."""
    with cli.Progress(2, "weeks", "auto") as bar:
        bar.update(2)
    assert capsys.readouterr().err == ""


def test_entry_point_turns_errors_and_interrupts_into_one_line(capsys):
    @cli.entry_point
    def refuses(argv):
        raise ConfigError("residents: must be > 0, got 0")

    @cli.entry_point
    def interrupted(argv):
        raise KeyboardInterrupt

    @cli.entry_point
    def disk_full(argv):
        raise OSError(28, "No space left on device", "/results/x")

    assert refuses([]) == 2
    assert capsys.readouterr().err == "error: residents: must be > 0, got 0\n"
    assert interrupted([]) == 130
    assert capsys.readouterr().err.count("\n") == 1
    assert disk_full([]) == 1
    assert capsys.readouterr().err == "error: cannot write results: /results/x No space left on device\n"


def test_own_settings_are_typed_and_checked():
    from dataclasses import dataclass

    from sim.params import nonneg

    @dataclass
    class Settings:
        runs: int = nonneg(10, 100)

    assert cli.own_settings(["runs=5"], Settings).runs == 5
    for bad, key in (("runs=500", "runs"), ("runz=5", "runz"), ("runs=many", "runs"), ("+x=1", "+x")):
        try:
            cli.own_settings([bad], Settings)
        except ConfigError as exc:
            assert str(exc).startswith(f"{key}:"), exc
        else:
            raise AssertionError(f"{bad} was accepted")
