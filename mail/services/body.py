"""What a mail says: the new text without quoted history and signature, and its files.

HTML-only mail is turned into plain text (nh3 removes every tag; nothing active reaches a page,
which shows comments as escaped text anyway). Replies are trimmed by mail-parser-reply, which
knows the quoting styles of Outlook, Gmail, Apple Mail and others in many languages.
"""

from __future__ import annotations

import html
import mimetypes
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage, MIMEPart

import nh3
from django.core.files.uploadedfile import SimpleUploadedFile
from mailparser_reply.parser import EmailMessage as ReplyParse

REPLY_LANGUAGES = ["en", "de", "fr", "es", "it", "nl", "pl", "sv", "cs", "ja", "zh"]
# Block elements end a line in the text an HTML mail becomes.
BLOCK_END = re.compile(r"(?i)<\s*(br\s*/?|/p|/div|/li|/tr|/h[1-6]|/blockquote)\s*>")
BLANK_LINES = re.compile(r"\n{3,}")
# A signature the parser found is dropped only when it starts with a closing on a line of its
# own ("Kind regards", "Thanks,", "Sent from my iPhone", "--"): it also takes a line such as
# "Thanks, that fixed it." for one, and everything after it with it.
CLOSING = re.compile(r"[-_]{2}|[^\W\d_]+(?: [^\W\d_]+){0,3}[,.!]?")
TRAILING_LINK = re.compile(r"\s*<[^<>\s]+>$")  # "Get Outlook for iOS<https://aka.ms/...>"


@dataclass
class Body:
    text: str
    files: list[SimpleUploadedFile] = field(default_factory=list)


def html_to_text(markup: str) -> str:
    marked = BLOCK_END.sub("\n", markup)
    # nh3 drops script and style with their content, every other tag keeps only its text.
    text = html.unescape(nh3.clean(marked, tags=set(), clean_content_tags={"script", "style"}))
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def _text_of(part: MIMEPart) -> str:
    try:
        content = part.get_content()
    except (LookupError, UnicodeError):  # an unknown or lying charset
        payload = part.get_payload(decode=True) or b""
        content = payload.decode("latin-1") if isinstance(payload, bytes) else str(payload)
    return content if isinstance(content, str) else ""


def full_text(message: EmailMessage) -> str:
    """The plain text of the message, or its HTML made plain."""
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    text = _text_of(part)
    if part.get_content_type() == "text/html":
        text = html_to_text(text)
    return text.replace("\r\n", "\n").strip()


def trimmed(text: str) -> str:
    """The new part of a reply: quoted history and signature removed."""
    if not text:
        return ""
    # keep_hyphen_lists: otherwise a line starting "- " (a list of steps) counts as a signature.
    parsed = ReplyParse(text=text, languages=list(REPLY_LANGUAGES), keep_hyphen_lists=True).read()
    if not parsed.replies:
        return text.strip()
    reply = parsed.replies[0]  # .content keeps the signature; .body drops it without the guard
    latest, signature = reply.content, reply.signatures
    closing = TRAILING_LINK.sub("", signature.splitlines()[0]) if signature else ""
    if signature and CLOSING.fullmatch(closing):
        latest = latest.replace(signature, "")
    return (latest.strip() or text).strip()


def files_of(message: EmailMessage) -> list[SimpleUploadedFile]:
    """Attachments and inline images, as uploads for the same checks as the pages'."""
    files: list[SimpleUploadedFile] = []
    for part in _file_parts(message):
        payload = part.get_payload(decode=True)
        payload = payload if isinstance(payload, bytes) else b""
        content_type = part.get_content_type()
        name = part.get_filename() or _fallback_name(content_type, len(files) + 1)
        files.append(SimpleUploadedFile(name[:255], payload, content_type=content_type))
    return files


def _file_parts(part: MIMEPart) -> Iterator[MIMEPart]:
    """The attachments at every level of the body's structure: iter_attachments sees one level,
    so the inline images of a multipart/related body (Outlook's image001.png) were lost."""
    listed = set()
    for sub in part.iter_attachments():
        listed.add(id(sub))
        if sub.get_content_maintype() == "multipart":
            yield from _file_parts(sub)
        elif not sub.is_multipart():  # an attached message/rfc822 stays out: its text is shown
            yield sub
    if part.get_content_maintype() == "multipart":
        for sub in part.iter_parts():
            if id(sub) not in listed and sub.get_content_maintype() == "multipart":
                yield from _file_parts(sub)


def _fallback_name(content_type: str, index: int) -> str:
    return f"attachment-{index}{mimetypes.guess_extension(content_type) or '.bin'}"


def body_of(message: EmailMessage, *, reply: bool) -> Body:
    text = full_text(message)
    return Body(text=trimmed(text) if reply else text, files=files_of(message))
