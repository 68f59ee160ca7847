"""Label rules (labels -> impact, urgency, category) and the generic webhook's field mapping,
both written by the admin as lines of text and kept as JSON on the integration."""

from __future__ import annotations

import re
from typing import Any

from incidents.models import Level
from tenancy.errors import InvalidInput

LEVELS = {level.value for level in Level}
MAPPING_FIELDS = ("dedup_key", "title", "description", "action", "severity", "link")
REQUIRED_MAPPING = ("dedup_key", "title")
RULE_LINE = re.compile(
    r"^\s*(?P<label>[\w.-]+)\s*=\s*(?P<value>[^:]+?)\s*:\s*(?P<impact>\w+)\s*/\s*(?P<urgency>\w+)"
    r"(?:\s+(?P<category>[\w-]+))?\s*$"
)
PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def parse_rules(text: str) -> list[dict[str, str]]:
    """Lines like `severity=critical: high/high network` (category slug optional)."""
    rules = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip() or line.strip().startswith("#"):
            continue
        match = RULE_LINE.match(line)
        if match is None:
            raise InvalidInput(
                f"Rule line {number} ({line.strip()!r}) is not `label=value: impact/urgency "
                "[category]`, e.g. `severity=critical: high/high`.",
                field="rules",
            )
        rule = {k: v for k, v in match.groupdict().items() if v}
        for field in ("impact", "urgency"):
            rule[field] = rule[field].lower()
            if rule[field] not in LEVELS:
                raise InvalidInput(
                    f"Rule line {number}: {field} is high, medium or low (got {rule[field]!r}).",
                    field="rules",
                )
        rules.append(rule)
    return rules


def rules_text(rules: list[dict[str, str]]) -> str:
    return "\n".join(
        f"{r['label']}={r['value']}: {r['impact']}/{r['urgency']}"
        + (f" {r['category']}" if r.get("category") else "")
        for r in rules
    )


def match_rule(rules: list[dict[str, str]], labels: dict[str, Any]) -> dict[str, str] | None:
    """The first rule whose label has its value (case-insensitive), or None."""
    for rule in rules:
        value = labels.get(rule["label"])
        if value is not None and str(value).lower() == rule["value"].lower():
            return rule
    return None


def parse_path(path: str) -> list[str | int]:
    """`$.alert.tags[0].name` (or without `$.`) -> ["alert", "tags", 0, "name"]."""
    path = (path or "").strip()
    if path.startswith("$"):
        path = path[1:].lstrip(".")
    if not path:
        raise InvalidInput("A path names at least one field, e.g. `$.alert.id`.", field="mapping")
    parts: list[str | int] = []
    position = 0
    for match in PATH_PART.finditer(path):
        gap = path[position : match.start()].strip(".")
        if gap:
            break
        parts.append(int(match.group(2)) if match.group(2) else match.group(1))
        position = match.end()
    if path[position:].strip(".") or not parts:
        raise InvalidInput(f"The path {path!r} is not like `$.alert.tags[0]`.", field="mapping")
    return parts


def resolve_path(document: Any, path: str) -> Any:
    """The value at the path, or None where the sample has no such field."""
    value = document
    for part in parse_path(path):
        if isinstance(part, int) and isinstance(value, list) and -len(value) <= part < len(value):
            value = value[part]
        elif isinstance(part, str) and isinstance(value, dict):
            value = value.get(part)
        else:
            return None
    return value


def parse_mapping(text: str) -> dict[str, str]:
    """Lines `field = path`; fields are MAPPING_FIELDS; dedup_key and title are required."""
    mapping: dict[str, str] = {}
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip() or line.strip().startswith("#"):
            continue
        field, sep, path = line.partition("=")
        field = field.strip()
        if not sep or field not in MAPPING_FIELDS:
            raise InvalidInput(
                f"Mapping line {number} ({line.strip()!r}) is not `field = path` with a field "
                f"among {', '.join(MAPPING_FIELDS)}.",
                field="mapping",
            )
        parse_path(path)
        mapping[field] = path.strip()
    missing = [f for f in REQUIRED_MAPPING if f not in mapping]
    if missing:
        raise InvalidInput(
            f"The mapping needs a path for {' and '.join(missing)}.", field="mapping"
        )
    return mapping


def mapping_text(mapping: dict[str, str]) -> str:
    return "\n".join(f"{field} = {path}" for field, path in mapping.items())
