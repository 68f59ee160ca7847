"""A load run's figures from its samples (bench/load/locustfile.py writes one row per request;
bench/load/sampler.py one row of resources every two seconds) and the database: per step and
endpoint class the request rate and p95; the rate at which each class's p95 first passes
500 ms; errors; the SLA alerts' lateness; CPU per process group, database waits and broker
queue depth per step, and what saturated first. Saved as summary.json, summary.md, chart.png."""

from __future__ import annotations

import csv
import json
import math
import os
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

GOAL_MS = 500.0
CORES = os.cpu_count() or 1
SKIP = ("login", "portal report form")  # set-up and a form's GET, not a class of its own


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1] if ordered else math.nan


def _steps(samples: Path, step_seconds: float) -> tuple[dict, dict, dict]:
    times: dict[int, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    failures: dict[str, int] = defaultdict(int)
    conflicts: dict[str, int] = defaultdict(int)
    with samples.open() as rows:
        for row in csv.DictReader(rows):
            name = row["name"]
            if name.startswith("conflict: "):
                conflicts[name.removeprefix("conflict: ")] += 1
                continue
            if row["ok"] != "1":
                failures[name] += 1
            times[int(float(row["t"]) // step_seconds)][name].append(float(row["ms"]))
    return times, dict(failures), dict(conflicts)


def _knee(steps: list[dict], name: str) -> dict[str, Any] | None:
    """The first step whose p95 for `name` passed the goal, with the rates there and before."""
    before = None
    for s in steps:
        c = s["classes"].get(name)
        if c is None:
            continue
        if c["p95"] > GOAL_MS:
            return {
                "users": s["users"],
                "class_rate": c["rate"],
                "total_rate": s["rate"],
                "last_under": before,
            }
        before = {"users": s["users"], "class_rate": c["rate"], "total_rate": s["rate"]}
    return None


def _resources(path: Path, started: float, step_seconds: float) -> dict[int, dict[str, float]]:
    per_step: dict[int, list[dict[str, str]]] = defaultdict(list)
    with path.open() as rows:
        for row in csv.DictReader(rows):
            per_step[int((float(row["t"]) - started) // step_seconds)].append(row)
    means = {}
    for n, rows_ in per_step.items():
        keys = [k for k in rows_[0] if k != "t"]
        means[n] = {
            k: sum(float(r[k] or 0) for r in rows_) / len(rows_) for k in keys if k != "queue_depth"
        }
        depth = [int(r["queue_depth"]) for r in rows_ if r["queue_depth"]]
        means[n]["queue_depth_max"] = max(depth) if depth else math.nan
    return means


def lateness(db: Any, started: float, ended: float) -> dict[str, Any]:
    """Seconds from due to written and to notified, of every SLA warning and breach that came
    due during the run; and those due then that no sweep had written by now."""
    start, end = (datetime.fromtimestamp(t, UTC) for t in (started, ended))
    rows = db.query(
        "SELECT EXTRACT(EPOCH FROM created_at - due_at), "
        "EXTRACT(EPOCH FROM notified_at - due_at) FROM escalation_slaalert "
        "WHERE kind IN ('warning', 'breach') AND due_at BETWEEN %s AND %s",
        (start, end),
        "sd_h_load",
    )
    unswept = db.query(
        "SELECT count(*) FROM escalation_slaclock WHERE state = 'running' "
        "AND next_check_at BETWEEN %s AND %s",
        (start, end),
        "sd_h_load",
    )[0][0]
    written = [float(w) for w, _ in rows]
    notified = [float(n) for _, n in rows if n is not None]

    def summary(values: list[float]) -> dict[str, float]:
        return {"p50": percentile(values, 50), "p95": percentile(values, 95),
                "max": max(values) if values else math.nan}  # fmt: skip

    return {
        "alerts": len(rows),
        "written": summary(written),
        "notified": summary(notified),
        "not_notified": len(rows) - len(notified),
        "due_not_written": unswept,
    }


def analyse(
    samples: Path, resources: Path, db: Any, started: float, ended: float, args: Any
) -> dict[str, Any]:
    times, failures, conflicts = _steps(samples, args.step_seconds)
    res = _resources(resources, started, args.step_seconds)
    steps = []
    for n in sorted(times):
        if n >= args.steps:
            continue  # the last requests after the shape stopped
        classes = {
            name: {"n": len(v), "rate": len(v) / args.step_seconds, "p95": percentile(v, 95)}
            for name, v in sorted(times[n].items())
            if name not in SKIP
        }
        steps.append({
            "step": n,
            "users": (n + 1) * args.step_users,
            "rate": sum(c["rate"] for c in classes.values()),
            "classes": classes,
            "resources": res.get(n, {}),
        })  # fmt: skip
    names = sorted({name for s in steps for name in s["classes"]})
    total = sum(len(v) for step_ in times.values() for v in step_.values())
    return {
        "cores": CORES,
        "steps": steps,
        "knees": {name: _knee(steps, name) for name in names},
        "errors": {"requests": total, "failures": sum(failures.values()), "by_class": failures},
        "conflicts": conflicts,
        "lateness": lateness(db, started, ended),
        "saturation": saturation(steps, names),
    }


def saturation(steps: list[dict], names: list[str]) -> dict[str, Any]:
    """At the first step where any class passed 500 ms (else the last step): the busiest process
    group, the machine's whole CPU against its cores, the database's waits, the queue depth."""
    knee = next((s for s in steps if any(c["p95"] > GOAL_MS for c in s["classes"].values())),
                steps[-1] if steps else None)  # fmt: skip
    if knee is None or not knee["resources"]:
        return {}
    r = knee["resources"]
    groups = ("web", "workers", "postgres", "replica", "pgbouncer", "broker", "haproxy", "locust",
              "runner")  # fmt: skip
    cpu = {g: r.get(g, 0.0) for g in groups}
    machine = sum(cpu.values())
    waits = {k.removeprefix("db_"): r[k] for k in r if k.startswith("db_")}
    busiest = max(cpu, key=lambda g: cpu[g])
    if machine >= 0.85 * 100 * CORES:
        verdict = f"CPU: the machine's {CORES} cores ({machine:.0f}% of {100 * CORES}%), "
        verdict += f"most of it {busiest} ({cpu[busiest]:.0f}%)"
    elif waits.get("Lock", 0) + waits.get("LWLock", 0) >= 2:
        verdict = "the database: backends waiting on locks"
    elif not math.isnan(r.get("queue_depth_max", math.nan)) and r["queue_depth_max"] > 100:
        verdict = "the workers: the broker's queues grew"
    else:
        verdict = f"{busiest} ({cpu[busiest]:.0f}% CPU; the machine at {machine:.0f}%)"
    return {"users": knee["users"], "cpu": cpu, "machine": machine, "db_waits": waits,
            "queue_depth_max": r.get("queue_depth_max"), "verdict": verdict}  # fmt: skip


def chart(figures: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = figures["steps"]
    users = [s["users"] for s in steps]
    names = sorted({n for s in steps for n in s["classes"]})
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 8), sharex=True)
    for name in names:
        p95 = [s["classes"].get(name, {}).get("p95", math.nan) for s in steps]
        rate = [s["classes"].get(name, {}).get("rate", math.nan) for s in steps]
        top.plot(users, p95, marker="o", label=name)
        bottom.plot(users, rate, marker="o", label=name)
    top.axhline(GOAL_MS, color="red", linestyle="--", linewidth=1, label="500 ms")
    top.set_ylabel("p95 (ms)")
    top.set_yscale("log")
    top.set_title(f"Topology {figures['topology']}: p95 per endpoint class")
    top.legend(fontsize=7, ncol=2)
    bottom.plot(users, [s["rate"] for s in steps], color="black", linewidth=2, label="all")
    bottom.set_ylabel("requests/s")
    bottom.set_xlabel("simulated users")
    bottom.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _fmt(value: float | None, unit: str = "") -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else (
        f"{value:.1f}{unit}")  # fmt: skip


def markdown(figures: dict[str, Any]) -> list[str]:
    lines = [f"# Load run, topology {figures['topology']} ({figures['cores']} cores)", ""]
    lines += ["| class | p95 passes 500 ms at | class rate there | total rate there | "
              "last step under: users, class rate |", "|---|---|---|---|---|"]  # fmt: skip
    for name, knee in figures["knees"].items():
        if knee is None:
            lines.append(f"| {name} | not within the run | | | |")
            continue
        under = knee["last_under"]
        before = f"{under['users']}, {under['class_rate']:.1f}/s" if under else "-"
        lines.append(f"| {name} | {knee['users']} users | {knee['class_rate']:.1f}/s | "
                     f"{knee['total_rate']:.1f}/s | {before} |")  # fmt: skip
    e = figures["errors"]
    conflicts = figures["conflicts"] or "none"
    lines += ["", f"Errors: {e['failures']} of {e['requests']} requests {e['by_class'] or ''}",
              f"Conflicts (409, someone acted first): {conflicts}"]  # fmt: skip
    late = figures["lateness"]
    lines += ["", f"SLA alerts due during the run: {late['alerts']}; due, not written at the "
              f"end: {late['due_not_written']}; not notified: {late['not_notified']}"]  # fmt: skip
    for what in ("written", "notified"):
        s = late[what]
        lines.append(f"- {what}: p50 {_fmt(s['p50'], ' s')}, p95 {_fmt(s['p95'], ' s')}, "
                     f"max {_fmt(s['max'], ' s')} after due")  # fmt: skip
    sat = figures["saturation"]
    if sat:
        cpu = ", ".join(f"{g} {v:.0f}%" for g, v in sorted(sat["cpu"].items(), key=lambda x: -x[1]))
        lines += ["", f"What saturated first (at {sat['users']} users): {sat['verdict']}",
                  f"- CPU per group (100% = one core): {cpu}",
                  f"- database backends by wait: {sat['db_waits']}",
                  f"- broker queue depth (max): {_fmt(sat['queue_depth_max'])}"]  # fmt: skip
    lines += ["", "| users | total/s | " + " | ".join(figures["knees"]) + " |",
              "|---|---|" + "---|" * len(figures["knees"])]  # fmt: skip
    for s in figures["steps"]:
        cells = [f"{_fmt(s['classes'].get(n, {}).get('p95'))} ms" for n in figures["knees"]]
        lines.append(f"| {s['users']} | {s['rate']:.1f} | " + " | ".join(cells) + " |")
    return lines


def write_summary(figures: dict[str, Any], out: Path) -> None:
    (out / "summary.json").write_text(json.dumps(figures, indent=1, default=str))
    lines = markdown(figures)
    (out / "summary.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines), flush=True)


def _peak(figures: dict[str, Any]) -> float:
    return max((s["rate"] for s in figures["steps"]), default=math.nan)


def compare(big: dict[str, Any], small: dict[str, Any], path: Path) -> None:
    """2x2 against 1x1: the peak request rate, and each class's rate where p95 passed 500 ms."""
    lines = [f"# {big['topology']} against {small['topology']}", "",
             f"Peak rate: {_peak(big):.1f}/s against {_peak(small):.1f}/s: "
             f"{_peak(big) / _peak(small):.2f}x", "",
             "| class | rate at 500 ms, 2x2 | 1x1 | ratio |", "|---|---|---|---|"]  # fmt: skip
    for name in big["knees"]:
        a, b = big["knees"].get(name), small["knees"].get(name)
        ra = a["class_rate"] if a else math.nan
        rb = b["class_rate"] if b else math.nan
        ratio = ra / rb if a and b and rb else math.nan
        lines.append(f"| {name} | {_fmt(ra, '/s')} | {_fmt(rb, '/s')} | {_fmt(ratio, 'x')} |")
    path.write_text("\n".join(lines) + "\n")
    print("\n" + "\n".join(lines), flush=True)
