"""The only code that changes problems and their links. Views, API and bulk actions call these."""

from problems.services.lifecycle import (
    problem_cancel,
    problem_close,
    problem_investigate,
    problem_log,
    problem_record_known_error,
)
from problems.services.links import (
    problem_link_incident,
    problem_link_incidents,
    problem_unlink_incident,
)
from problems.services.resolve import ProblemResolution, problem_resolve

__all__ = [
    "ProblemResolution",
    "problem_cancel",
    "problem_close",
    "problem_investigate",
    "problem_link_incident",
    "problem_link_incidents",
    "problem_log",
    "problem_record_known_error",
    "problem_resolve",
    "problem_unlink_incident",
]
