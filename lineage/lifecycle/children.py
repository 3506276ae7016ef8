"""What a process started from here inherits: the run it links to, and writes done first.

A child process links to the run current where it was started through
``LINEAGE_PARENT_RUN_UID`` in its environment. Setting the variable each
time a run becomes current would cost a ``setenv`` per task or step, and
glibc keeps every value ever set (64 to 80 bytes per run uid, never
freed: a worker running a million tasks would hold 64 to 80 MB more). So
for runs made current in the main thread the variable is set when a
process is about to be started (an audit hook on Python's
process-starting events), to the run current in the starting context,
and put back when that run stops being current (`release`). Runs of a whole process and flows
(``process_wide``) set it at once (`set_now`): code that copies
``os.environ`` for a child of its own sees them.

The same hook calls what other modules register with `before_spawn`
(deferred runs are written, so the child finds what it links to).
"""

from __future__ import annotations

import os
import sys
import threading
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from lineage.lifecycle.runs import Activation

#: The variable a child process reads its parent run's uid from.
PARENT_ENV = "LINEAGE_PARENT_RUN_UID"
#: Audit events raised before a process is started (or replaced).
SPAWNING = frozenset({"subprocess.Popen", "os.posix_spawn", "os.spawn", "os.system",
                      "os.exec", "os.fork", "os.forkpty"})

# Activations of the main thread whose run a child would link to, in order.
_main: list[Activation] = []
_callbacks: list[Callable[[], None]] = []
_installed: list[bool] = []
_install_lock = threading.Lock()


def set_now(activation: Activation) -> None:
    """Point ``LINEAGE_PARENT_RUN_UID`` at the activation's run at once."""
    activation.previous_env = os.environ.get(PARENT_ENV)
    os.environ[PARENT_ENV] = activation.run.uid
    activation.env_set = True
    if threading.current_thread() is threading.main_thread():
        _main.append(activation)


def set_on_spawn(activation: Activation) -> None:
    """Point the variable at the activation's run when a process is started while it is current."""
    _install()
    _main.append(activation)


def release(activation: Activation) -> None:
    """The activation ends: forget it, and put the variable back if it points at its run."""
    for i in range(len(_main) - 1, -1, -1):
        if _main[i] is activation:
            del _main[i]
            break
    if activation.env_set and os.environ.get(PARENT_ENV) == activation.run.uid:
        if activation.previous_env is None:
            os.environ.pop(PARENT_ENV, None)
        else:
            os.environ[PARENT_ENV] = activation.previous_env


def before_spawn(callback: Callable[[], None]) -> None:
    """Call `callback` (it must not raise) before this process starts another one."""
    _install()
    if callback not in _callbacks:
        _callbacks.append(callback)


def _install() -> None:
    if _installed:
        return
    with _install_lock:
        if not _installed:
            sys.addaudithook(_on_audit)
            _installed.append(True)


def _on_audit(event: str, args: tuple[Any, ...]) -> None:
    if event not in SPAWNING:
        return
    try:
        for callback in _callbacks:
            callback()
        _point_at_current_run()
    except BaseException:  # noqa: BLE001 - an audit hook that raises would stop the spawn
        pass


def _point_at_current_run() -> None:
    """In the main thread: the variable names the run of the starting context."""
    if not _main or threading.current_thread() is not threading.main_thread():
        return
    from lineage.context import context_run

    run = context_run()
    for activation in reversed(_main):
        if activation.run is run:
            break
    else:
        return  # not a run made current here: the variable stays as it is
    uid = run.uid
    current = os.environ.get(PARENT_ENV)
    if current != uid:
        if not activation.env_set:
            activation.previous_env, activation.env_set = current, True
        os.environ[PARENT_ENV] = uid
