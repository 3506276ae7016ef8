"""Airflow server processes for a test, none of which may outlive it.

Each process is started in a session of its own (with its workers and task
processes), killed as a whole group when the block ends, and watched by a
guard process: should the test process itself die (``kill -9``, a timeout),
the guard notices and kills the groups, so no scheduler survives whatever
happens.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil

_GUARD = r"""
import os, signal, sys, time
parent, groups_file = int(sys.argv[1]), sys.argv[2]
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
try:
    while os.getppid() == parent:
        time.sleep(0.5)
finally:
    try:
        groups = [int(line) for line in open(groups_file).read().split()]
    except OSError:
        groups = []
    for group in groups:
        try:
            os.killpg(group, signal.SIGKILL)
        except OSError:
            pass
"""


class Processes:
    """Started processes, each the leader of its own process group."""

    def __init__(self, folder: Path, env: dict[str, str]) -> None:
        self.folder = folder
        self.env = env
        self.groups: list[int] = []
        self.logs: dict[str, Path] = {}
        self._groups_file = folder / "process-groups"
        self._groups_file.write_text("")
        self.guard = subprocess.Popen([sys.executable, "-c", _GUARD, str(os.getpid()),
                                       str(self._groups_file)], start_new_session=True)

    def start(self, name: str, *args: str) -> subprocess.Popen:
        """Start ``airflow <args>`` with its output in ``<folder>/<name>.log``."""
        log = self.folder / f"{name}.log"
        self.logs[name] = log
        airflow = str(Path(sys.executable).with_name("airflow"))
        with open(log, "wb") as out:
            process = subprocess.Popen([airflow, *args], env=self.env, stdout=out,
                                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       start_new_session=True)
        self.groups.append(process.pid)
        self._groups_file.write_text("\n".join(map(str, self.groups)))
        return process

    def survivors(self) -> list[psutil.Process]:
        """Processes still alive in the sessions of the started ones."""
        alive = []
        for proc in psutil.process_iter(["pid"]):
            try:
                if os.getsid(proc.pid) in self.groups and proc.status() != psutil.STATUS_ZOMBIE:
                    alive.append(proc)
            except (OSError, psutil.Error):
                continue
        return alive

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM every group, then SIGKILL what is left after `grace` seconds."""
        for group in self.groups:
            _signal_group(group, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while self.survivors() and time.monotonic() < deadline:
            time.sleep(0.3)
        for group in self.groups:
            _signal_group(group, signal.SIGKILL)
        for proc in self.survivors():  # a process that left its group but not its session
            try:
                proc.kill()
            except psutil.Error:
                pass
        deadline = time.monotonic() + 5
        while self.survivors() and time.monotonic() < deadline:
            time.sleep(0.1)
        self.guard.terminate()
        self.guard.wait(10)

    def tail(self, lines: int = 40) -> str:
        """The end of every log, for a failure message."""
        parts = []
        for name, log in self.logs.items():
            text = log.read_text(errors="replace").splitlines()[-lines:] if log.exists() else []
            parts.append(f"--- {name}\n" + "\n".join(text))
        return "\n".join(parts)


@contextmanager
def airflow_processes(folder: Path, env: dict[str, str]) -> Iterator[Processes]:
    """Processes started in the block are all gone when it ends (see `Processes.stop`)."""
    processes = Processes(folder, env)
    try:
        yield processes
    finally:
        processes.stop()


def _signal_group(group: int, sig: int) -> None:
    try:
        os.killpg(group, sig)
    except OSError:
        pass
