"""The end-of-run report as text lines, for the command's output (the page uses the same run
fields in its template)."""

from __future__ import annotations

from imports.formats import FORMATS
from imports.models import ImportRun, RunState


def filled_text(run: ImportRun) -> list[str]:
    source = FORMATS[run.format].SOURCE if run.format in FORMATS else "the source"
    return [
        f"{c['impact']} impact x {c['urgency']} urgency -> {c['priority']} "
        f"({source}'s base value; the file never shows this cell)"
        for c in run.report.get("filled_cells", [])
    ]


def report_lines(run: ImportRun) -> list[str]:
    lines = [f"Import of {run.source_name}: {run.get_state_display().lower()}."]
    if run.state == RunState.FAILED:
        return [*lines, run.error]
    lines += [
        f"Rows read: {run.rows_total}",
        f"Incidents: {run.incidents_created} imported, {run.incidents_updated} given new rows, "
        f"{run.incidents_unchanged} already imported and unchanged (of {run.incidents_total})",
        f"Events imported: {run.events_created}",
        f"Rows skipped: {run.rows_skipped}",
    ]
    lines += [
        f"  line {s['line']} ({s['number'] or 'no number'}): {s['reason']}"
        for s in run.report.get("skipped", [])
    ]
    matrix = run.report.get("matrix")
    if matrix:
        done = "set to" if matrix["changed"] else "already was"
        lines.append(f"Priority scale {done} the file's: {', '.join(matrix['scale'])}")
        filled = filled_text(run)
        lines.append(f"Matrix cells filled: {len(filled)}")
        lines += [f"  {text}" for text in filled]
    lines.append(f"Priority disagreements (incidents): {run.disagreements}")
    lines += [
        f"  {d['number']} line {d['line']}: {d['impact']} x {d['urgency']} was {d['source']} "
        f"there, {d['derived']} here"
        for d in run.report.get("disagreements", [])
    ]
    return lines
