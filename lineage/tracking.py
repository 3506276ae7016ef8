"""``ln.track()`` and ``ln.finish()``: track a whole script or notebook.

A tracked run is never left ``started``:

* normal exit without `finish()`: an ``atexit`` handler finishes it as
  ``completed`` and saves the report (what that needs is imported when
  tracking starts: nothing can be imported at interpreter exit); in a
  ``multiprocessing`` child, which skips ``atexit``, a multiprocessing
  finalizer does (``errored`` if the target raised); with remote default
  storage the run is finished earlier, while threads may still start (see
  `_finish_before_threads_stop`), because uploads need them;
* an uncaught exception: a ``sys.excepthook`` (chained to the previous
  one, which still prints the traceback) records ``errored`` with the
  traceback, ``aborted`` for ``KeyboardInterrupt``;
* SIGTERM, and SIGINT when it would kill the process: the handler records
  ``aborted`` for every active run of the process, then lets the signal
  act as before (the previous handler is called, or with the default
  disposition the process is killed by the same signal, so the exit status
  is the conventional one).

A second `track()` while a run is tracked raises `RunAlreadyActive` naming
the active run (call `finish()` first); in a notebook, where re-running the
cell is normal, the previous run is finished as ``completed`` with a
warning and a new one starts.

The handlers are installed by the first `track()` (or the first flow or
step call), never at import, and chain whatever was installed before.
"""

from __future__ import annotations

import os
import signal
import sys
import tempfile
import threading
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from lineage import lifecycle
from lineage.errors import NoActiveRun, RunAlreadyActive

if TYPE_CHECKING:
    from collections.abc import Mapping

    from lineage.models.run import Run


class _Tracked:
    """The run of `track()` in this process."""

    __slots__ = ("run", "activation", "pid", "report", "notebook", "transform")

    def __init__(self, run: Run, activation: lifecycle.Activation, pid: int,
                 report: _Report | None, notebook: _Notebook | None = None,
                 transform: Any = None) -> None:
        self.transform = transform
        self.run = run
        self.activation = activation
        self.pid = pid
        self.report = report
        self.notebook = notebook


_tracked: _Tracked | None = None
_lock = threading.RLock()


def track(
    params: Mapping[str, Any] | None = None,
    *,
    project: Any = None,
    features: Mapping[str, Any] | None = None,
    key: str | None = None,
    path: str | os.PathLike[str] | None = None,
    space: Any = None,
) -> Run:
    """Start tracking the running script or notebook as a Run.

    Captures the source (a new Transform version when it changed), the
    params, ``sys.argv`` (redacted), the environment, the git state, and
    what the script prints (stdout/stderr) as the run's report. In a
    notebook: the ``.ipynb`` (all cells, no outputs) is the source, the
    values of the ``parameters`` cell (papermill's) are params, and the
    report is the executed notebook as HTML (see docs/notebooks.md).

    Args:
        params: Parameters of the run (JSON; nested dicts are queryable as
            ``ln.Run.filter(params__a__b=...)``; records stored as references).
        project: A project name, an `ln.Project`, or a list of them; created
            by name if missing. The transform, the run and every artifact
            saved in the run are linked to it.
        features: Feature values, validated against ``ln.Feature`` before
            anything is written.
        key: Transform key to use instead of the script path.
        path: The script or notebook file, when it cannot be found (a
            notebook run by ``nbclient`` or ``papermill`` from Python).
        space: An ``ln.Space`` or its name: the run and every record created
            in it (artifacts, projects, labels, the report) go there; members
            of that space alone may see them (enforced by PostgreSQL; see
            docs/spaces.md). None: ``ln.settings.space``, else ``all``.

    Returns:
        The started Run.

    Raises:
        RunAlreadyActive: A run is already tracked in this process (or a
            flow/step run is active here); call ``ln.finish()`` first.
        ValidationError: An unknown feature or a value of the wrong type.
    """
    global _tracked
    with _lock:
        _check_no_active_run()
        resolved = lifecycle.validate_features(features)
        from lineage.instance import current_instance

        instance = current_instance()
        notebook = _Notebook.find(path) if _kind() == "notebook" else None
        if notebook is not None:
            transform, path = notebook.transform(instance, key)
            params = notebook.params(params)
        else:
            transform, path = _script_transform(instance, key, path)
        git = _git(path, instance)
        run = lifecycle.start_run(transform, params=params, projects=project or (),
                                  features=resolved, git=git, space=space)
        activation = lifecycle.activate(run, process_wide=True, set_context=False)
        install_exit_handlers()
        report = None
        _prepare_report_saving(instance)
        _say(f"tracking {_transform_text(transform)}, run {run.uid}", notebook is not None)
        if notebook is not None:
            notebook.record_outputs()
        else:
            report = _Report.start()
            _watch_sys_exit()
        _tracked = _Tracked(run, activation, os.getpid(), report, notebook, transform)
        _finish_in_multiprocessing_child()
        return run


def finish() -> Run:
    """Finish the run started by `track()` as ``completed``.

    Also called automatically when the script ends.

    Returns:
        The finished Run.

    Raises:
        NoActiveRun: `track()` was not called (or the run is finished).
    """
    state = _own_state()
    if state is None:
        raise NoActiveRun("ln.finish() was called but no run is tracked: call ln.track() first.")
    return _finish_tracked(state, "completed")


def tracked_run() -> Run | None:
    """The run started by `track()` in this process and not finished, or None."""
    state = _own_state()
    return state.run if state is not None else None


# --- starting -------------------------------------------------------------------------
def _check_no_active_run() -> None:
    from lineage.context import _current_run

    state = _own_state()
    if state is not None:
        if _kind() == "notebook":
            warnings.warn(
                f"finishing run {state.run.uid} of {_transform_key(state.run)} and starting a new "
                "one (ln.track() was called again).", UserWarning, stacklevel=3)
            _finish_tracked(state, "completed")
            return
        raise RunAlreadyActive(
            f"run {state.run.uid} of {_transform_key(state.run)} is already tracked in this "
            "process. Call ln.finish() before calling ln.track() again.")
    running = _current_run.get()
    if running is not None and running.pid == os.getpid() and lifecycle.is_active(running):
        raise RunAlreadyActive(
            f"run {running.uid} ({running.entrypoint or _transform_key(running)}) is active here: "
            "ln.track() tracks a whole script and cannot start inside a flow or step. Call it at "
            "the top of the script instead.")


def _transform_key(run: Run) -> str:
    from lineage.models.transform import Transform

    rows = Transform.filter(id=run.transform_id).all()
    return repr(rows[0].key) if rows else "its transform"


def _own_state() -> _Tracked | None:
    global _tracked
    state = _tracked
    if state is not None and state.pid != os.getpid():
        _tracked = None  # inherited through fork: the parent process owns it
        return None
    return state


def _kind() -> str:
    from lineage.capture.source import detect_kind

    return detect_kind()


def _script_transform(instance: Any, key: str | None,
                      explicit: str | os.PathLike[str] | None = None) -> tuple[Any, Path | None]:
    from lineage.capture.notebook import notebook_transform_source
    from lineage.capture.source import current_script_path, read_source, transform_key

    path = Path(os.path.abspath(explicit)) if explicit is not None else current_script_path()
    kind = "script"
    source: str | None = None
    if path is not None:
        try:
            if path.suffix == ".ipynb":
                kind = "notebook"
                source = notebook_transform_source(path)
            else:
                source = read_source(path)
        except OSError:
            source = None
        if key is None:
            dev_dir = instance.settings.dev_dir
            main = sys.modules.get("__main__")
            package = None if explicit is not None else getattr(main, "__package__", None)
            key = transform_key(path, Path(dev_dir) if dev_dir else None, package=package or None)
    key = key or "__main__.py"
    return lifecycle.get_or_create_transform(key, source, kind), path


class _Notebook:
    """The notebook `track()` runs in: its file, parameters and outputs."""

    #: Key of a notebook whose path could not be found.
    UNKNOWN_KEY = "__notebook__.ipynb"

    def __init__(self, path: Path | None, nb: dict[str, Any] | None, shell: Any) -> None:
        self.path = path
        self.nb = nb
        self.shell = shell
        self.recorder: Any = None

    @classmethod
    def find(cls, explicit: str | os.PathLike[str] | None) -> _Notebook:
        from lineage.capture.notebook import find_notebook, ipython_shell, read_notebook

        shell = ipython_shell()
        path, _how = find_notebook(explicit)
        nb = None
        if path is not None:
            try:
                nb = read_notebook(path)
            except OSError as error:
                if explicit is not None:
                    from lineage.errors import ValidationError

                    raise ValidationError(
                        f"ln.track(path={str(explicit)!r}): cannot read the notebook ({error}). "
                        "Pass the path of the .ipynb file this kernel runs.") from error
                path = None
        if path is None:
            print("lineage: could not find the path of this notebook, so it is recorded as "
                  f"{cls.UNKNOWN_KEY!r} with the code of the cells run so far; pass "
                  "ln.track(path='my_notebook.ipynb') or set LINEAGE_NOTEBOOK_PATH.",
                  file=sys.stderr)
        return cls(path, nb, shell)

    def transform(self, instance: Any, key: str | None) -> tuple[Any, Path | None]:
        from lineage.capture.notebook import clean_notebook, dumps, history_notebook
        from lineage.capture.source import transform_key

        if self.nb is not None and self.path is not None:
            source = dumps(clean_notebook(self.nb))
            if key is None:
                dev_dir = instance.settings.dev_dir
                key = transform_key(self.path, Path(dev_dir) if dev_dir else None)
        else:
            source = dumps(history_notebook(self.shell))
            key = key or self.UNKNOWN_KEY
        return lifecycle.get_or_create_transform(key, source, "notebook"), self.path

    def params(self, explicit: Mapping[str, Any] | None) -> dict[str, Any] | None:
        """The ``parameters`` cell's values (papermill's), then `explicit` over them."""
        from lineage.capture.notebook import notebook_params

        found, missing = notebook_params(self.nb, self.shell)
        if missing:
            warnings.warn(
                f"ln.track() ran before the notebook's parameters {', '.join(missing)} were "
                "defined: call it after the parameters cell to record them.",
                UserWarning, stacklevel=4)
        if not found:
            return dict(explicit) if explicit is not None else None
        return {**found, **(explicit or {})}

    def record_outputs(self) -> None:
        from lineage.capture.notebook_outputs import OutputRecorder

        recorder = OutputRecorder(self.shell)
        if recorder.install():
            self.recorder = recorder

    def executed(self) -> dict[str, Any] | None:
        """The notebook with the outputs recorded so far (redacted), or None."""
        from lineage.capture.notebook import clean_notebook, history_notebook
        from lineage.capture.notebook_outputs import executed_notebook
        from lineage.capture.redact import redact_text

        if self.recorder is None:
            return None
        for stream in (sys.stdout, sys.stderr):  # a kernel's streams send on flush
            try:
                stream.flush()
            except Exception:  # noqa: BLE001
                pass
        base = clean_notebook(self.nb) if self.nb is not None else history_notebook(None)
        return executed_notebook(base, self.recorder.cells(), redact=redact_text)

    def stop(self) -> None:
        if self.recorder is not None:
            self.recorder.uninstall()


def _git(path: Path | None, instance: Any) -> dict[str, Any] | None:
    if path is None:
        return None
    from lineage.capture.git import capture_git

    return capture_git(path, instance.settings.sync_git_repo)


#: What saving the report needs, imported when tracking starts: the report of a
#: script that does not call `finish()` is saved at interpreter exit, when
#: nothing may be imported any more (``concurrent.futures``, for one, cannot
#: register its own exit hook then: "can't register atexit after shutdown").
#: `tests/tracking/test_tracking_exit.py` fails naming any module missing here.
_REPORT_MODULES = ("lineage.artifact", "lineage.artifacts.create", "lineage.artifacts.save",
                   "lineage.models.links", "lineage.capture.redact")


def _prepare_report_saving(instance: Any) -> None:
    import importlib

    for name in _REPORT_MODULES:
        importlib.import_module(name)
    store = instance.store()  # the store module of the default storage, and its set-up
    from lineage.storage.local import LocalStore

    if not isinstance(store, LocalStore):
        _finish_before_threads_stop()


_thread_hook_installed = False


def _finish_before_threads_stop() -> None:
    """Finish the tracked run at thread shutdown, before ``atexit`` (remote storage).

    S3 clients (aiobotocore under s3fs) hand work to an asyncio executor
    thread; by the time ``atexit`` handlers run, ``concurrent.futures`` has
    shut every executor down ("cannot schedule new futures after shutdown"),
    so the report could not be uploaded. Interpreter shutdown calls the
    hooks of ``threading._register_atexit`` first, newest first, before
    joining threads: registered after ``concurrent.futures``', ours runs
    while executors still work. The ``atexit`` handler stays the fallback.
    """
    global _thread_hook_installed
    if _thread_hook_installed:
        return
    import concurrent.futures.thread  # noqa: F401 - its exit hook must come before ours

    register = getattr(threading, "_register_atexit", None)
    if register is None:  # pragma: no cover - a Python without it keeps the atexit path
        return
    register(_at_thread_shutdown)
    _thread_hook_installed = True


def _at_thread_shutdown() -> None:
    """Wait for the program's own threads (the interpreter would), then finish the run.

    Work still queued in a ``concurrent.futures`` pool runs after this hook,
    so then the ``atexit`` handler finishes the run instead.
    """
    from concurrent.futures import thread as futures_thread

    workers = set(futures_thread._threads_queues)
    main, current = threading.main_thread(), threading.current_thread()
    for thread in threading.enumerate():
        if (thread not in (main, current) and not thread.daemon and thread not in workers
                and not isinstance(thread, threading._DummyThread)):
            thread.join()
    if any(not queue.empty() for queue in futures_thread._threads_queues.values()):
        return
    _at_exit()


def _finish_in_multiprocessing_child() -> None:
    """In a ``multiprocessing`` child, finish the tracked run when its target returns.

    Such a child ends with ``os._exit`` (fork, forkserver) right after
    multiprocessing's own exit function, so ``atexit`` handlers never run
    there; a multiprocessing finalizer does.
    """
    mp = sys.modules.get("multiprocessing")
    if mp is None or mp.parent_process() is None:
        return
    from multiprocessing import util

    util.Finalize(None, _at_child_exit, exitpriority=100)


def _at_child_exit() -> None:
    state = _own_state()
    if state is None:
        return
    error = _target_error()
    status = "aborted" if _signal_exit else lifecycle.status_for(error)
    try:
        _finish_tracked(state, status, error if status != "completed" else None)
    except Exception as exc:  # noqa: BLE001 - the child must still exit
        print(f"lineage: could not record the end of run {state.run.uid}: {exc}",
              file=sys.__stderr__)


def _target_error() -> BaseException | None:
    """The exception leaving the child's target, if one is (it is still being raised).

    Only an exception caught by multiprocessing's ``_bootstrap`` counts, not
    one the parent was handling when it forked.
    """
    error = sys.exc_info()[1]
    process = sys.modules.get("multiprocessing.process")
    bootstrap = getattr(getattr(process, "BaseProcess", None), "_bootstrap", None)
    tb = getattr(error, "__traceback__", None)
    if tb is None or bootstrap is None or tb.tb_frame.f_code is not bootstrap.__code__:
        return None
    return error


# --- finishing --------------------------------------------------------------------------
def _finish_tracked(state: _Tracked, status: str, error: Any = None, save_report: bool = True) -> Run:
    global _tracked
    with _lock:
        if _tracked is state:
            _tracked = None
    report = state.report
    if report is not None:
        report.stop()
    executed = None
    if state.notebook is not None:
        try:
            executed = state.notebook.executed() if save_report else None
        finally:
            state.notebook.stop()
    saved = None
    try:
        lifecycle.finish_run(state.run, status, error)
    finally:
        lifecycle.deactivate(state.activation)
        if report is not None:
            if save_report:
                saved = _store_report(state.run, report)
            report.discard()
        if executed is not None:
            saved = _store_notebook_report(state.run, executed)
    where = (f"; report: artifact {saved.uid} ({saved.description.split(' of run')[0]})"
             if saved is not None else "")
    _say(f"finished run {state.run.uid} of {_transform_text(state.transform)}: "
         f"{state.run.status}{where}", state.notebook is not None)
    return state.run


def _transform_text(transform: Any) -> str:
    if transform is None:
        return "its transform"
    tag = f" {transform.version_tag}" if getattr(transform, "version_tag", None) else ""
    return f"{transform.key} v{transform.version}{tag} ({transform.kind})"


def _say(text: str, notebook: bool) -> None:
    """One line about what `track()` / `finish()` did, unless ``ln.settings.verbosity`` says not.

    On stderr in a script (stdout stays the program's), on stdout in a notebook.
    """
    try:
        from lineage.instance import current_instance

        if current_instance().settings.verbosity != "info":
            return
        print(f"lineage: {text}", file=sys.stdout if notebook else sys.stderr, flush=True)
    except Exception:  # noqa: BLE001 - a message never breaks a run (closed streams at exit)
        pass


def _store_report(run: Run, report: _Report) -> Any:
    """Save what the script printed as ``run.report`` (an artifact without key), redacted.

    Returns:
        The report artifact, or None (nothing printed, or saving failed).
    """
    try:
        if report.path.stat().st_size == 0:
            return None
        report.redact()
        return _save_report_file(run, report.path, f"stdout and stderr of run {run.uid}")
    except Exception as error:  # noqa: BLE001 - a report never breaks the end of a run
        print(f"lineage: the output of run {run.uid} was not saved as its report: {error}",
              file=sys.__stderr__)
        return None


def _store_notebook_report(run: Run, executed: dict[str, Any]) -> Any:
    """Save the executed notebook as ``run.report``: HTML, or ``.ipynb`` without nbconvert."""
    from lineage.capture.notebook import dumps
    from lineage.capture.notebook_outputs import render_html

    folder = None
    try:
        folder = Path(tempfile.mkdtemp(prefix="lineage-report-"))
        html = render_html(executed)
        if html is None:
            path = folder / f"run-{run.uid}.ipynb"
            path.write_text(dumps(executed), encoding="utf-8")
            print("lineage: nbconvert is not installed, so the report of this notebook is the "
                  "executed .ipynb; `pip install 'lineage[notebooks]'` for HTML.", file=sys.stderr)
        else:
            path = folder / f"run-{run.uid}.html"
            path.write_text(html, encoding="utf-8")
        kind = "HTML" if html is not None else ".ipynb"
        return _save_report_file(run, path, f"executed notebook as {kind} of run {run.uid}")
    except Exception as error:  # noqa: BLE001 - a report never breaks the end of a run
        print(f"lineage: the executed notebook of run {run.uid} was not saved as its report: "
              f"{error}", file=sys.__stderr__)
        return None
    finally:
        if folder is not None:
            import shutil

            shutil.rmtree(folder, ignore_errors=True)


def _save_report_file(run: Run, path: Path, description: str) -> Any:
    from lineage.artifact import Artifact

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # identical output of an earlier run is reused
        artifact = Artifact(path, description=description)
        if artifact.id is None:
            artifact.save()
    db = getattr(run, "_db", None) or _current_db()
    db.write(lambda conn: conn.execute("UPDATE run SET report_id = ? WHERE id = ?",
                                       [artifact.id, run.id]))
    run._assign(report_id=artifact.id)
    run._loaded["report_id"] = run._loaded_raw["report_id"] = artifact.id
    return artifact


def _current_db() -> Any:
    from lineage.instance import current_instance

    return current_instance().db


# --- exit handling ------------------------------------------------------------------------
_installed = False
_signals_installed = False
_previous_excepthook: Any = None
_previous_handlers: dict[int, Any] = {}
_signal_exit = lifecycle.terminating_signals


def install_exit_handlers() -> None:
    """Install the atexit handler, excepthook and signal handlers (once per process).

    Signal handlers can only be installed from the main thread; a call from
    another thread installs the rest, and a later call from the main thread
    adds them.
    """
    global _installed, _signals_installed, _previous_excepthook
    main = threading.current_thread() is threading.main_thread()
    if _installed and (_signals_installed or not main):
        return
    with _lock:
        if not _installed:
            import atexit

            atexit.register(_at_exit)
            _previous_excepthook = sys.excepthook
            sys.excepthook = _excepthook
            _installed = True
        if main and not _signals_installed:
            for signum in (signal.SIGTERM, signal.SIGINT):
                _install_signal(signum)
            _signals_installed = True


def _install_signal(signum: int) -> None:
    try:
        previous = signal.getsignal(signum)
    except (ValueError, OSError):
        return
    if previous in (signal.SIG_IGN, None):
        return  # ignored, or installed from C: leave it alone
    if signum == signal.SIGINT and previous is signal.default_int_handler:
        return  # KeyboardInterrupt reaches the wrappers and the excepthook
    _previous_handlers[signum] = previous
    try:
        signal.signal(signum, _on_signal)
    except (ValueError, OSError):
        _previous_handlers.pop(signum, None)


def _on_signal(signum: int, frame: Any) -> None:
    previous = _previous_handlers.get(signum, signal.SIG_DFL)
    if callable(previous):
        try:
            previous(signum, frame)
        except SystemExit:
            _signal_exit.append(signum)  # the exit handlers record "aborted"
            raise
        return
    _signal_exit.append(signum)
    reason = f"aborted by signal {signal.Signals(signum).name}"
    if _in_transaction():
        # A transaction of this thread is open: unwind it first (it rolls
        # back); the wrappers and the atexit handler then record "aborted".
        raise SystemExit(128 + signum)
    _abort_everything(reason)
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _in_transaction() -> bool:
    """Whether this thread is inside a transaction of a database runs use."""
    from lineage import instance

    databases = [getattr(r, "_db", None) for r in lifecycle.active_runs()]
    if instance._current is not None:
        databases.append(instance._current.db)
    return any(db is not None and db.in_transaction() for db in databases)


def _abort_everything(reason: str) -> None:
    state = _own_state()
    if state is not None:
        try:
            _finish_tracked(state, "aborted", reason, save_report=False)
        except Exception:  # noqa: BLE001 - the process is ending
            pass
    lifecycle.abort_active_runs(reason)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001
            pass


def _excepthook(exc_type: type[BaseException], exc: BaseException, tb: Any) -> None:
    try:
        hook = _previous_excepthook or sys.__excepthook__
        hook(exc_type, exc, tb)
    finally:
        state = _own_state()
        if state is not None:
            if exc.__traceback__ is None:
                exc = exc.with_traceback(tb)
            status = "aborted" if _signal_exit else lifecycle.status_for(exc)
            if status == "completed":
                status = "errored"  # an uncaught exception never completes a run
            try:
                _finish_tracked(state, status, exc)
            except Exception as error:  # noqa: BLE001 - never hide the user's traceback
                print(f"lineage: could not record the end of run {state.run.uid}: {error}",
                      file=sys.__stderr__)


#: The status the main thread passed to ``sys.exit`` (see `_watch_sys_exit`).
_exit_status: list[Any] = []
_original_exit: Any = None


def _watch_sys_exit() -> None:
    """Remember the status of a ``sys.exit(n)`` in the main thread, for the exit handlers.

    Python tells exit handlers nothing about how the program ends; a
    tracked script that calls ``sys.exit(2)`` (argparse, click and most
    command-line tools do on error) would otherwise be ``completed``.
    """
    global _original_exit
    if _original_exit is not None:
        return
    _original_exit = original = sys.exit

    def exit(status: Any = None) -> None:  # noqa: A001 - it is sys.exit
        if threading.current_thread() is threading.main_thread():
            _exit_status[:] = [status]
        original(status)

    exit.__doc__ = original.__doc__
    sys.exit = exit


def _exit_failure() -> str | None:
    """``exited with status n`` when the main thread called ``sys.exit(n)``, n not 0."""
    if not _exit_status or _exit_status[0] in (None, 0):
        return None
    status = _exit_status[0]
    if isinstance(status, int):
        return f"the script exited with status {status} (sys.exit({status}))"
    return f"the script exited with status 1: sys.exit({status!r})"


def _at_exit() -> None:
    state = _own_state()
    if state is not None:
        status = "aborted" if _signal_exit else "completed"
        reason = (f"aborted by signal {signal.Signals(_signal_exit[0]).name}"
                  if _signal_exit else None)
        failure = None if _signal_exit else _exit_failure()
        if failure is not None:
            status, reason = "errored", failure
        try:
            _finish_tracked(state, status, reason)
        except Exception as error:  # noqa: BLE001 - exit must go on
            print(f"lineage: could not record the end of run {state.run.uid}: {error}",
                  file=sys.__stderr__)
    reason = ("aborted by signal " + signal.Signals(_signal_exit[0]).name if _signal_exit
              else "the process exited while this run was still running")
    lifecycle.abort_active_runs(reason)


# --- report -------------------------------------------------------------------------------
class _Tee:
    """A text stream that also copies everything written to a file."""

    def __init__(self, stream: TextIO, copy: TextIO) -> None:
        self._stream = stream
        self._copy = copy

    def write(self, text: str) -> int:
        written = self._stream.write(text)
        try:
            self._copy.write(text)
        except (OSError, ValueError):
            pass
        return written

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        self._stream.flush()
        try:
            self._copy.flush()
        except (OSError, ValueError):
            pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class _Report:
    """stdout and stderr of a tracked script, copied to a temporary file."""

    def __init__(self, path: Path, file: TextIO) -> None:
        self.path = path
        self.file = file
        self.tees: list[tuple[str, _Tee]] = []

    @classmethod
    def start(cls) -> _Report | None:
        try:
            fd, name = tempfile.mkstemp(prefix="lineage-report-", suffix=".txt")
            file = os.fdopen(fd, "w", encoding="utf-8", errors="replace")
        except OSError:
            return None
        report = cls(Path(name), file)
        for attribute in ("stdout", "stderr"):
            stream = getattr(sys, attribute)
            if stream is None:
                continue
            tee = _Tee(stream, file)
            setattr(sys, attribute, tee)
            report.tees.append((attribute, tee))
        return report

    def stop(self) -> None:
        """Restore the streams (unless replaced since) and close the file."""
        for attribute, tee in self.tees:
            if getattr(sys, attribute) is tee:
                setattr(sys, attribute, tee._stream)
            try:
                tee._stream.flush()
            except (OSError, ValueError):
                pass
        self.tees.clear()
        try:
            self.file.close()
        except OSError:
            pass

    def redact(self) -> None:
        """Rewrite the file with secrets redacted line by line, as ``run.error`` is.

        Tracebacks and log lines printed by the script often hold URLs with
        credentials (``https://deploy:secret@host``) or ``password=...``.
        """
        from lineage.capture.redact import redact_text

        redacted = self.path.with_name(self.path.name + ".redacted")
        try:
            with open(self.path, encoding="utf-8", errors="replace", newline="") as source, \
                    open(redacted, "w", encoding="utf-8", newline="") as target:
                for line in source:
                    target.write(redact_text(line))
            os.replace(redacted, self.path)
        except BaseException:  # never save the unredacted text instead
            redacted.unlink(missing_ok=True)
            raise

    def discard(self) -> None:
        """Delete the file."""
        try:
            self.path.unlink()
        except OSError:
            pass
