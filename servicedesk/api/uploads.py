import mimetypes

from django.conf import settings
from rest_framework import exceptions

from servicedesk.api.errors import PayloadTooLarge


def check_upload(upload) -> None:
    """413 for a file over the limit, 415 for a refused type: before anything is stored."""
    limit = settings.ATTACHMENT_MAX_BYTES
    if upload.size > limit:
        raise PayloadTooLarge(
            f"{upload.name} is {upload.size:,} bytes; files are limited to {limit:,} bytes."
        )
    content_type = mimetypes.guess_type(upload.name)[0] or "application/octet-stream"
    if content_type not in settings.ATTACHMENT_ALLOWED_TYPES:
        raise exceptions.UnsupportedMediaType(
            content_type, detail=f"Files of type {content_type} are not accepted."
        )
