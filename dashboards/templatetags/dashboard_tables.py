"""The table view of a tile set or chart, written in Python: a dashboard has a dozen tables
of up to a few hundred cells, and template loops made them the slowest part of the page."""

from __future__ import annotations

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from dashboards.views.presentation import Cell, Table

register = template.Library()


def _cell(cell: Cell, first: bool) -> str:
    text: str = escape(cell.text)
    if cell.href:
        text = f'<a href="{escape(cell.href)}">{text}</a>'
    return f'<th scope="row">{text}</th>' if first else f"<td>{text}</td>"


@register.simple_tag
def data_table(table: Table) -> SafeString:
    head = "".join(f'<th scope="col">{escape(c.title)}</th>' for c in table.columns)
    rows = [
        "<tr>" + "".join(_cell(cell, i == 0) for i, cell in enumerate(row)) + "</tr>"
        for row in table.rows
    ]
    if not rows:
        rows = [f'<tr><td colspan="{len(table.columns)}">Nothing in this period.</td></tr>']
    return mark_safe(  # every text above went through escape()
        f'<div class="table-scroll"><table class="dense"><caption>{escape(table.caption)}'
        f"</caption><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )
