"""Source code on the transform page: syntax highlighting (Pygments) and version diffs."""

from __future__ import annotations

import difflib
from functools import lru_cache
from typing import Any

from lineage.errors import ValidationError

#: Sources longer than this are shown without highlighting (it would be slow).
HIGHLIGHT_LIMIT = 500_000


def highlight(source: str, filename: str) -> str:
    """`source` as HTML with Pygments classes (``.hl``), lexer guessed from `filename`."""
    import html

    if len(source) > HIGHLIGHT_LIMIT:
        return f"<pre class=\"hl\">{html.escape(source)}</pre>"
    from pygments import highlight as pyg_highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import PythonLexer, TextLexer, get_lexer_for_filename
    from pygments.util import ClassNotFound

    name = filename[:-len(".ipynb")] + ".py" if filename.endswith(".ipynb") else filename
    try:
        lexer = get_lexer_for_filename(name, source)
    except ClassNotFound:
        lexer = PythonLexer() if source.lstrip().startswith(("import ", "from ", "def ")) \
            else TextLexer()
    formatter = HtmlFormatter(cssclass="hl", linenos="inline", wrapcode=True)
    return pyg_highlight(source, lexer, formatter)


@lru_cache(maxsize=1)
def stylesheet() -> str:
    """The CSS of the highlighting classes (Pygments' "friendly" style), served at /highlight.css."""
    from pygments.formatters import HtmlFormatter

    return HtmlFormatter(style="friendly").get_style_defs(".hl")


def transform_diff(transform: Any, against: str | None) -> dict[str, Any]:
    """A unified diff from another version of the key (default: the previous one) to `transform`.

    Raises:
        ValidationError: No other version, or `against` is a transform of another key.
    """
    from lineage.models.transform import Transform

    if against:
        other = Transform.get(against)
        if other.key != transform.key:
            raise ValidationError(f"transform {other.uid} has key {other.key!r}, not "
                                  f"{transform.key!r}: diffs compare versions of one key.")
    else:
        other = (Transform.filter(key=transform.key, version__lt=transform.version)
                 .order_by("-version").first())
        if other is None:
            raise ValidationError(f"{transform.key} v{transform.version} has no earlier version "
                                  "to compare with.")
    old, new = (other.source_code or ""), (transform.source_code or "")
    lines = []
    diff = difflib.unified_diff(old.splitlines(), new.splitlines(),
                                f"v{other.version}", f"v{transform.version}", lineterm="", n=3)
    for line in diff:
        kind = ("header" if line.startswith(("---", "+++")) else "hunk" if line.startswith("@@")
                else "added" if line.startswith("+") else "removed" if line.startswith("-")
                else "same")
        lines.append({"kind": kind, "text": line})
    return {"old": {"uid": other.uid, "version": other.version},
            "new": {"uid": transform.uid, "version": transform.version},
            "identical": not lines, "lines": lines}
