"""What a notebook's cells printed and displayed, recorded inside the kernel.

The notebook file on disk does not hold the outputs of the run that is
going on (a headless runner writes it when it is done, an editor when the
user saves), so the kernel records them itself: `OutputRecorder` wraps the
``send`` of the kernel's session and keeps every output message (stream,
display data, execute result, error) of each executed cell.
`executed_notebook` puts them into the notebook's cells, which
`render_html` turns into the run's report with nbconvert (an optional
extra, imported only then).
"""

from __future__ import annotations

import copy
import threading
from typing import Any

from lineage.capture.notebook import cell_text

_OUTPUT_TYPES = ("stream", "display_data", "execute_result", "error", "clear_output")


class _Cell:
    __slots__ = ("count", "code", "outputs")

    def __init__(self, count: Any, code: str) -> None:
        self.count = count if isinstance(count, int) else None
        self.code = code
        self.outputs: list[dict[str, Any]] = []


class OutputRecorder:
    """Records the outputs of the cells a kernel executes from now on."""

    def __init__(self, shell: Any) -> None:
        self._shell = shell
        self._session = getattr(getattr(shell, "kernel", None), "session", None)
        self._lock = threading.Lock()
        self._cells: list[_Cell] = []
        self._by_msg: dict[str, _Cell] = {}
        self._original_send: Any = None
        self._earlier()

    def _earlier(self) -> None:
        """Cells run before recording started: their code, and results from ``Out``."""
        user_ns = getattr(self._shell, "user_ns", None) or {}
        history = user_ns.get("In") or []
        results = user_ns.get("Out") or {}
        for count, code in enumerate(history[:-1]):
            if count == 0 or not isinstance(code, str) or not code.strip():
                continue
            cell = _Cell(count, code)
            if count in results:
                try:
                    text = repr(results[count])
                except Exception:  # noqa: BLE001 - an object whose repr fails
                    text = f"<{type(results[count]).__name__}>"
                cell.outputs.append({"output_type": "execute_result", "execution_count": count,
                                     "data": {"text/plain": text}, "metadata": {}})
            self._cells.append(cell)
        if history and isinstance(history[-1], str):  # the cell running now
            self._start_cell(history[-1])

    def install(self) -> bool:
        """Start recording; False when this is not a kernel with a session."""
        session = self._session
        if session is None or not callable(getattr(session, "send", None)):
            return False
        self._original_send = session.send
        recorder = self

        def send(stream: Any, msg_or_type: Any, content: Any = None, parent: Any = None,
                 *args: Any, **kwargs: Any) -> Any:
            try:
                recorder._observe(msg_or_type, content, parent)
            except Exception:  # noqa: BLE001 - recording never breaks the kernel
                pass
            return recorder._original_send(stream, msg_or_type, content, parent, *args, **kwargs)

        session.send = send
        events = getattr(self._shell, "events", None)
        if events is not None:
            events.register("pre_run_cell", self._pre_run_cell)
        return True

    def uninstall(self) -> None:
        """Stop recording (the kernel's session sends as before)."""
        session = self._session
        if self._original_send is not None and session is not None:
            if getattr(session, "send", None) is not self._original_send:
                try:
                    del session.send  # the instance attribute we set
                except AttributeError:
                    session.send = self._original_send
            self._original_send = None
        events = getattr(self._shell, "events", None)
        if events is not None:
            try:
                events.unregister("pre_run_cell", self._pre_run_cell)
            except ValueError:
                pass

    def _msg_id(self) -> str | None:
        header = getattr(self._shell, "parent_header", None) or {}
        return (header.get("header") or {}).get("msg_id")

    def _start_cell(self, code: str) -> None:
        cell = _Cell(getattr(self._shell, "execution_count", None), code)
        with self._lock:
            self._cells.append(cell)
            msg_id = self._msg_id()
            if msg_id:
                self._by_msg[msg_id] = cell

    def _pre_run_cell(self, info: Any = None) -> None:
        code = getattr(info, "raw_cell", None)
        if code is None:
            history = (getattr(self._shell, "user_ns", None) or {}).get("In") or [""]
            code = history[-1]
        self._start_cell(code)

    def _observe(self, msg_or_type: Any, content: Any, parent: Any) -> None:
        if isinstance(msg_or_type, dict):
            kind = (msg_or_type.get("header") or {}).get("msg_type") or msg_or_type.get("msg_type")
            content = msg_or_type.get("content")
            parent = msg_or_type.get("parent_header")
        else:
            kind = msg_or_type
        if kind not in _OUTPUT_TYPES or not isinstance(content, dict):
            return
        header = parent.get("header", parent) if isinstance(parent, dict) else {}
        with self._lock:
            cell = self._by_msg.get(header.get("msg_id")) if header else None
            if cell is None:
                if not self._cells:
                    return
                cell = self._cells[-1]
            _append(cell.outputs, kind, content)

    def cells(self) -> list[tuple[int | None, str, list[dict[str, Any]]]]:
        """``(execution count, code, outputs)`` of every executed cell, in order."""
        with self._lock:
            return [(c.count, c.code, copy.deepcopy(c.outputs)) for c in self._cells]


def _append(outputs: list[dict[str, Any]], kind: str, content: dict[str, Any]) -> None:
    if kind == "clear_output":
        outputs.clear()
    elif kind == "stream":
        name, text = content.get("name", "stdout"), str(content.get("text", ""))
        if outputs and outputs[-1]["output_type"] == "stream" and outputs[-1]["name"] == name:
            outputs[-1]["text"] += text
        else:
            outputs.append({"output_type": "stream", "name": name, "text": text})
    elif kind == "error":
        outputs.append({"output_type": "error", "ename": str(content.get("ename", "")),
                        "evalue": str(content.get("evalue", "")),
                        "traceback": [str(t) for t in content.get("traceback", [])]})
    else:
        output = {"output_type": kind, "data": dict(content.get("data") or {}),
                  "metadata": dict(content.get("metadata") or {})}
        if kind == "execute_result":
            output["execution_count"] = content.get("execution_count")
        outputs.append(output)


def executed_notebook(nb: dict[str, Any], executed: list[tuple[int | None, str, list[Any]]],
                      redact: Any = None) -> dict[str, Any]:
    """The notebook `nb` with the outputs of the cells executed in this kernel.

    Each executed cell fills the next code cell of `nb` with the same code;
    one the file does not hold (a cell papermill injected, one edited since
    the file was saved) is inserted where it ran.

    Args:
        nb: The notebook (cleaned: no outputs).
        executed: ``OutputRecorder.cells()``.
        redact: A function applied to every text output (secrets), or None.
    """
    result = copy.deepcopy(nb)
    source_cells = result.get("cells", [])
    cells: list[dict[str, Any]] = []
    position = 0
    for count, code, outputs in executed:
        outputs = [_redacted(o, redact) for o in outputs] if redact else outputs
        wanted = code.strip()
        match = next((j for j in range(position, len(source_cells))
                      if source_cells[j].get("cell_type") == "code"
                      and cell_text(source_cells[j]).strip() == wanted), None)
        if match is None:
            cells.append({"cell_type": "code", "execution_count": count, "metadata": {},
                          "outputs": outputs, "source": code})
            continue
        cells.extend(source_cells[position:match])
        cell = source_cells[match]
        cell["execution_count"], cell["outputs"] = count, outputs
        cells.append(cell)
        position = match + 1
    cells.extend(source_cells[position:])
    for index, cell in enumerate(cells):  # inserted cells need ids in nbformat 4.5
        if result.get("nbformat_minor", 0) >= 5 and "id" not in cell:
            cell["id"] = f"executed-{index}"
    result["cells"] = cells
    return result


def _redacted(output: dict[str, Any], redact: Any) -> dict[str, Any]:
    output = dict(output)
    if "text" in output:
        output["text"] = redact(output["text"])
    if output.get("output_type") == "error":
        output["evalue"] = redact(output["evalue"])
        output["traceback"] = [redact(t) for t in output["traceback"]]
    data = output.get("data")
    if isinstance(data, dict):
        output["data"] = {k: redact(v) if isinstance(v, str) and k.startswith("text/") else v
                          for k, v in data.items()}
    return output


def render_html(nb: dict[str, Any]) -> str | None:
    """The notebook as a standalone HTML page (nbconvert), or None without nbconvert."""
    try:
        import nbformat
        from nbconvert import HTMLExporter
    except ImportError:
        return None
    node = nbformat.from_dict(copy.deepcopy(nb))
    body, _ = HTMLExporter().from_notebook_node(node)
    return body
