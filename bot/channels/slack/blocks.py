"""Bot messages as Block Kit: sections in mrkdwn, buttons whose value is the payload, images.

Markdown goes through bot.knowledge.render's Slack style (``[t](u)`` -> ``<u|t>``, ``**b**``
-> ``*b*``), so raw Markdown never reaches Slack. A QR code (a data: URL) cannot be an image
block; it becomes a PNG file that the caller uploads, and only in a DM.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from typing import Any

import segno

from bot.dialogue.responses import BotMessage
from bot.knowledge.render import is_safe_link, render

BUTTON_ACTION = "helpdesk_button"
SECTION_LIMIT = 3000  # Slack's limit for a section's text
BUTTONS_PER_BLOCK = 5  # a row Slack shows without wrapping oddly; the API allows 25
FALLBACK_LIMIT = 3000
_OTPAUTH = re.compile(r"otpauth://\S+")


@dataclass
class SlackFile:
    filename: str
    content: bytes
    title: str


@dataclass
class SlackMessage:
    text: str  # notification / screen-reader fallback
    blocks: list[dict[str, Any]] = field(default_factory=list)
    files: list[SlackFile] = field(default_factory=list)


def button_action_id(index: int) -> str:
    return f"{BUTTON_ACTION}_{index}"


def mrkdwn(markdown: str) -> str:
    return render(markdown, "slack")


def section(text: str) -> list[dict[str, Any]]:
    """One section per 3000 characters, split on line ends where possible."""
    blocks = []
    while text:
        chunk = text[:SECTION_LIMIT]
        if len(text) > SECTION_LIMIT and "\n" in chunk:
            chunk = chunk[: chunk.rindex("\n")]
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": chunk}})
        text = text[len(chunk):].lstrip("\n")
    return blocks


def buttons_blocks(buttons: list[dict[str, str]]) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    for start in range(0, len(buttons), BUTTONS_PER_BLOCK):
        elements = []
        for index, button in enumerate(buttons[start:start + BUTTONS_PER_BLOCK], start=start):
            elements.append({
                "type": "button",
                "action_id": button_action_id(index),
                "text": {"type": "plain_text", "text": str(button.get("title") or "")[:75], "emoji": True},
                "value": str(button.get("payload") or "")[:2000],
            })
        blocks.append({"type": "actions", "block_id": f"helpdesk_buttons_{start}", "elements": elements})
    return blocks


def to_slack(message: BotMessage, *, private: bool) -> SlackMessage:
    """``private`` is True in a DM: only there may a data: image be uploaded; never one of a
    message that carries a secret (issue 14), as an uploaded file outlives the message."""
    blocks: list[dict[str, Any]] = []
    text = mrkdwn(message.text) if message.text else ""
    if text:
        blocks += section(text)
    files: list[SlackFile] = []
    if message.image:
        if is_safe_link(message.image) and message.image.lower().startswith(("http://", "https://")):
            blocks.append({"type": "image", "image_url": message.image, "alt_text": "image"})
        elif message.image.startswith("data:") and private and message.stored is None:
            files.append(_image_file(message))
    if message.buttons:
        blocks += buttons_blocks(message.buttons)
    fallback = render(message.text, "text")[:FALLBACK_LIMIT] if message.text else "…"
    return SlackMessage(text=fallback, blocks=blocks, files=files)


def _image_file(message: BotMessage) -> SlackFile:
    """A QR code holds the otpauth URI the message also shows: draw it again as PNG (Slack
    previews PNG, not SVG). Any other data: image is uploaded as it is."""
    uri = _OTPAUTH.search(message.text or "")
    if uri is not None:
        import io

        out = io.BytesIO()
        segno.make(uri.group(0), error="m").save(out, kind="png", scale=6, border=4)
        return SlackFile(filename="activation-qr.png", content=out.getvalue(), title="Activation QR code")
    header, _, data = (message.image or "").partition(",")
    kind = header.removeprefix("data:").split(";")[0] or "application/octet-stream"
    extension = {"image/png": "png", "image/svg+xml": "svg", "image/jpeg": "jpg"}.get(kind, "bin")
    content = base64.b64decode(data) if ";base64" in header else data.encode()
    return SlackFile(filename=f"image.{extension}", content=content, title="Image")


def chosen_blocks(blocks: list[dict[str, Any]], title: str) -> list[dict[str, Any]]:
    """The clicked message without its buttons, saying which one was chosen (no double clicks)."""
    kept = [b for b in blocks if b.get("type") != "actions"]
    return kept + [{"type": "context", "elements": [{"type": "mrkdwn", "text": f"› _{_escape(title)}_"}]}]


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
