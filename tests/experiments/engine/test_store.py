"""The store (experiments/engine/store.py): one results root, names that cannot leave it, atomic writes, and
temporaries of dead processes cleaned up."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from experiments.engine import store
from experiments.engine.config import ConfigError


@pytest.fixture
def root(tmp_path, monkeypatch):
    path = tmp_path / "results"
    monkeypatch.setenv("PLACESIM_RESULTS", str(path))
    return path


def test_the_results_root_follows_the_environment(root):
    assert store.results_root() == root.resolve()
    assert store.check_results_root() == root.resolve() and root.is_dir()


def test_a_path_outside_the_root_is_refused(root):
    assert store.output_dir("sweeps", "smoke") == root.resolve() / "sweeps" / "smoke"
    for parts in (("sweeps", "../../x"), ("..",), ("/tmp",)):
        with pytest.raises(ConfigError, match="outside"):
            store.output_dir(*parts)


def test_a_file_in_place_of_the_root_is_refused(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("PLACESIM_RESULTS", str(blocker / "results"))
    with pytest.raises(ConfigError, match="is a file, not a folder"):
        store.check_results_root()


def test_write_folder_is_all_or_nothing(root):
    final = root / "runs" / "one"

    def broken(tmp):
        (tmp / "a.txt").write_text("half")
        raise RuntimeError("killed half-way")

    with pytest.raises(RuntimeError):
        store.write_folder(final, broken)
    assert not final.exists() and list((root / "runs").iterdir()) == []
    store.write_folder(final, lambda tmp: (tmp / "a.txt").write_text("whole"))
    assert (final / "a.txt").read_text() == "whole"
    store.write_folder(final, lambda tmp: (tmp / "b.txt").write_text("again"))  # replaced whole
    assert sorted(p.name for p in final.iterdir()) == ["b.txt"]
    assert sorted(p.name for p in (root / "runs").iterdir()) == ["one"]


def test_write_file_is_atomic_and_readable_by_all(root):
    path = store.write_text(root / "x" / "a.csv", "1,2\n")
    assert path.read_text() == "1,2\n" and oct(path.stat().st_mode & 0o777) == "0o644"
    assert [p.name for p in path.parent.iterdir()] == ["a.csv"]


def test_remove_stale_removes_only_temporaries_of_dead_processes(root):
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    host = socket.gethostname()
    folder = root / "f"
    folder.mkdir(parents=True)
    dead = folder / f".run.tmp-{host}-{proc.pid}-abc"
    alive = folder / f".run.tmp-{host}-{os.getpid()}-def"
    other_host = folder / f".run.tmp-elsewhere-{proc.pid}-ghi.part"
    plain = folder / ".not-ours"
    dead.mkdir()
    alive.mkdir()
    other_host.write_text("x")
    plain.write_text("x")
    assert store.remove_stale(folder) == 1
    assert not dead.exists() and alive.exists() and other_host.exists() and plain.exists()
    os.utime(other_host, (0, 0))  # a day old or more: its host's process cannot still be writing it
    assert store.remove_stale(folder) == 1 and not other_host.exists()
