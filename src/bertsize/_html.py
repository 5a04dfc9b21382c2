"""HTML tables for notebooks (the ``_repr_html_`` of Estimate, its breakdown and Result)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape


def table(headers: Sequence[object], rows: Sequence[Sequence[object]], caption: str = "") -> str:
    """A plain HTML table: text cells escaped, the first column left-aligned and the
    others right-aligned (numbers)."""
    head = "".join(f"<th>{escape(str(h))}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f'<td style="text-align:{"left" if i == 0 else "right"}">{escape(str(cell))}</td>'
                         for i, cell in enumerate(row)) + "</tr>"
        for row in rows
    )
    title = f"<caption>{escape(caption)}</caption>" if caption else ""
    return f"<table>{title}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
