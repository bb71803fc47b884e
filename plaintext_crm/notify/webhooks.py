"""A digest as the JSON payload of a chat service's incoming webhook: Slack, Microsoft Teams, Matrix, generic.

Each payload escapes user text for the service's own syntax: Slack mrkdwn (`&`, `<`, `>` as entities,
links as `<url|text>`), Teams Adaptive Cards (TextRuns, plain text by the schema), Matrix HTML (formatted_body).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from plaintext_crm.escape import terminal
from plaintext_crm.notify.digest import Digest, DigestItem
from plaintext_crm.notify.render_html import render_html
from plaintext_crm.notify.render_json import digest_data
from plaintext_crm.notify.render_markdown import link_target
from plaintext_crm.notify.render_text import heading, render_text, summary

SLACK_TEXT_LIMIT = 3000  # characters of a section block's text
SLACK_HEADER_LIMIT = 150  # characters of a header block's plain_text
SLACK_BLOCK_LIMIT = 50  # blocks of one message


def slack_text(text: str) -> str:
    """Text for Slack mrkdwn: hidden characters made visible, then `&`, `<` and `>` as entities (Slack's rule)."""
    return terminal(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_item(item: DigestItem) -> str:
    title = slack_text(item.title)
    linked = f"<{link_target(item.url)}|{title.replace('|', '¦')}>" if item.url else f"{title} ({slack_text(item.path)})"
    return f"• {linked}: {slack_text(item.detail)}"


def _chunks(lines: list[str], limit: int) -> list[str]:
    """Lines joined into texts of at most `limit` characters (a longer single line is cut with an ellipsis)."""
    chunks: list[str] = []
    current = ""
    for line in lines:
        line = line if len(line) <= limit else line[:limit - 1] + "…"
        if current and len(current) + 1 + len(line) > limit:
            chunks.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        chunks.append(current)
    return chunks


def slack_payload(digest: Digest) -> dict[str, Any]:
    """`text` (the notification's fallback) and Block Kit `blocks`: a header, then a section per section."""
    title = terminal(heading(digest))
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": title[:SLACK_HEADER_LIMIT], "emoji": False}}]
    for section in digest.sections:
        lines = [f"*{section.title}* ({len(section.items)})", *(_slack_item(item) for item in section.items)]
        for chunk in _chunks(lines, SLACK_TEXT_LIMIT):
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": chunk}})
    if len(blocks) > SLACK_BLOCK_LIMIT:
        blocks = blocks[:SLACK_BLOCK_LIMIT - 1] + [
            {"type": "context", "elements": [{"type": "mrkdwn", "text": "… more in `plaintext-crm digest`"}]}]
    return {"text": slack_text(f"{heading(digest)}: {summary(digest)}"), "blocks": blocks}


def _run(text: str, **style: Any) -> dict[str, Any]:
    """A TextRun: plain text by the Adaptive Card schema (never read as Markdown), hidden characters visible."""
    return {"type": "TextRun", "text": terminal(text), **style}


def _teams_item(item: DigestItem) -> dict[str, Any]:
    title = _run(item.title, weight="Bolder")
    if item.url:
        title["selectAction"] = {"type": "Action.OpenUrl", "url": item.url}
        title["color"] = "Accent"
    return {"type": "RichTextBlock", "inlines": [_run("• "), title, _run(": " + item.detail)]}


def teams_payload(digest: Digest) -> dict[str, Any]:
    """A message with one Adaptive Card attachment (what Teams' Workflows webhooks accept). Every text is a
    TextRun of a RichTextBlock: user text is never read as Markdown, so nothing needs escaping."""
    body: list[dict[str, Any]] = [
        {"type": "RichTextBlock", "inlines": [_run(heading(digest), weight="Bolder", size="Medium")]}]
    for section in digest.sections:
        body.append({"type": "RichTextBlock", "spacing": "Medium",
                     "inlines": [_run(f"{section.title} ({len(section.items)})", weight="Bolder")]})
        body += [_teams_item(item) for item in section.items]
    card = {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard",
            "version": "1.4", "body": body}
    return {"type": "message",
            "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None,
                             "content": card}]}


def matrix_payload(digest: Digest) -> dict[str, Any]:
    """The content of an `m.room.message` event: the text digest, and its HTML as formatted_body."""
    document = render_html(digest)
    inner = document.split("<body", 1)[1].split(">", 1)[1].rsplit("</body>", 1)[0]
    return {"msgtype": "m.text", "body": render_text(digest), "format": "org.matrix.custom.html",
            "formatted_body": inner.strip()}


def generic_payload(digest: Digest) -> dict[str, Any]:
    """The digest's JSON data (as `digest --format json` gives each digest) with its text."""
    return {**digest_data(digest), "text": render_text(digest)}


PAYLOADS: dict[str, Callable[[Digest], dict[str, Any]]] = {
    "slack": slack_payload, "teams": teams_payload, "matrix": matrix_payload, "generic": generic_payload,
}


def payload_of(kind: str, digest: Digest) -> dict[str, Any]:
    """The payload of `kind` (crm.yaml's notify.webhook.kind) for one digest."""
    return PAYLOADS[kind](digest)
