"""The self-service portal's pages: report, follow, answer; and the pages of signed links."""

from portal.views.incident import (
    attachment_download,
    incident_broken,
    incident_comment,
    incident_detail,
    incident_emails,
    incident_fixed,
    incident_reported,
    incident_timeline,
)
from portal.views.links import answer_link, follow_link, follow_link_file, unsubscribe_link
from portal.views.report import incident_join, my_incidents, report, similar

__all__ = [
    "answer_link",
    "attachment_download",
    "follow_link",
    "follow_link_file",
    "incident_broken",
    "incident_comment",
    "incident_detail",
    "incident_emails",
    "incident_fixed",
    "incident_join",
    "incident_reported",
    "incident_timeline",
    "my_incidents",
    "report",
    "similar",
    "unsubscribe_link",
]
