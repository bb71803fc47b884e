"""Local servers and payload shapes for the notify tests: an SMTP server (aiosmtpd) and a webhook server on
127.0.0.1, the JSON shapes each chat service documents, and an HTML scan for resources and tags."""

from __future__ import annotations

import http.server
import json
import re
import socket
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Mailbox:
    """What the SMTP server received: (recipients, message bytes) per message."""

    messages: list[tuple[list[str], bytes]] = field(default_factory=list)

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), bytes(envelope.original_content or envelope.content)))
        return "250 Message accepted for delivery"


@contextmanager
def smtp_server(tls_files: tuple[Path, Path] | None = None) -> Iterator[tuple[int, Mailbox]]:
    """An aiosmtpd server on 127.0.0.1 (STARTTLS required when given a certificate and key); its port and mailbox."""
    import ssl

    from aiosmtpd.controller import Controller

    mailbox = Mailbox()
    options: dict[str, Any] = {}
    if tls_files is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(tls_files[0]), str(tls_files[1]))
        options = {"tls_context": context, "require_starttls": True}
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield port, mailbox
    finally:
        controller.stop()


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, made by the openssl command."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


@dataclass
class Hook:
    """The webhook server's script of answers (the last repeats) and what it received."""

    answers: list[int]
    requests: list[tuple[str, str, dict[str, str], Any]] = field(default_factory=list)  # method, path, headers, body
    accepted: list[Any] = field(default_factory=list)


@contextmanager
def webhook_server(answers: list[int]) -> Iterator[tuple[str, Hook]]:
    """An HTTP server on 127.0.0.1 answering POST and PUT with the scripted status codes; its URL and record."""
    hook = Hook(list(answers))
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def _receive(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
            with lock:
                code = hook.answers.pop(0) if len(hook.answers) > 1 else hook.answers[0]
                hook.requests.append((self.command, self.path, dict(self.headers), body))
                if code < 300:
                    hook.accepted.append(body)
            self.send_response(code)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        do_POST = do_PUT = _receive

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", hook
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


# --- the payload shapes each service documents (the parts a sender must get right) -------------------------

_TEXT = {"type": "string", "minLength": 1}
SLACK = {  # api.slack.com/messaging/webhooks and the Block Kit reference (header, section, context blocks)
    "type": "object", "required": ["text", "blocks"],
    "properties": {"text": _TEXT, "blocks": {"type": "array", "minItems": 1, "maxItems": 50, "items": {"oneOf": [
        {"type": "object", "required": ["type", "text"], "additionalProperties": False,
         "properties": {"type": {"const": "header"}, "text": {
             "type": "object", "required": ["type", "text"],
             "properties": {"type": {"const": "plain_text"}, "text": {"type": "string", "maxLength": 150},
                            "emoji": {"type": "boolean"}}}}},
        {"type": "object", "required": ["type", "text"], "additionalProperties": False,
         "properties": {"type": {"const": "section"}, "text": {
             "type": "object", "required": ["type", "text"], "additionalProperties": False,
             "properties": {"type": {"const": "mrkdwn"}, "text": {"type": "string", "minLength": 1,
                                                                   "maxLength": 3000}}}}},
        {"type": "object", "required": ["type", "elements"], "properties": {"type": {"const": "context"}}},
    ]}}},
}
TEXT_RUN = {  # adaptivecards.io/explorer/TextRun.html (Adaptive Cards 1.2+), with an Action.OpenUrl for links
    "type": "object", "required": ["type", "text"], "additionalProperties": False,
    "properties": {"type": {"const": "TextRun"}, "text": _TEXT, "weight": {"enum": ["Default", "Lighter", "Bolder"]},
                   "size": {"enum": ["Default", "Small", "Medium", "Large", "ExtraLarge"]},
                   "color": {"enum": ["Default", "Dark", "Light", "Accent", "Good", "Warning", "Attention"]},
                   "selectAction": {"type": "object", "required": ["type", "url"], "additionalProperties": False,
                                    "properties": {"type": {"const": "Action.OpenUrl"},
                                                   "url": {"type": "string", "pattern": "^https?://"}}}},
}
TEAMS = {  # learn.microsoft.com: send Adaptive Cards with incoming webhooks (the message envelope)
    "type": "object", "required": ["type", "attachments"],
    "properties": {"type": {"const": "message"}, "attachments": {"type": "array", "minItems": 1, "items": {
        "type": "object", "required": ["contentType", "content"],
        "properties": {"contentType": {"const": "application/vnd.microsoft.card.adaptive"},
                       "contentUrl": {"type": "null"},
                       "content": {"type": "object", "required": ["type", "version", "body"],
                                   "properties": {"type": {"const": "AdaptiveCard"}, "$schema": {"type": "string"},
                                                  "version": {"enum": ["1.0", "1.2", "1.3", "1.4", "1.5"]},
                                                  "body": {"type": "array", "minItems": 1, "items": {
                                                      "type": "object", "required": ["type", "inlines"],
                                                      "properties": {"type": {"const": "RichTextBlock"},
                                                                     "inlines": {"type": "array", "minItems": 1,
                                                                                 "items": TEXT_RUN}}}}}}}}}},
}
MATRIX = {  # spec.matrix.org: m.room.message with msgtype m.text and an HTML formatted_body
    "type": "object", "required": ["msgtype", "body"], "additionalProperties": False,
    "properties": {"msgtype": {"const": "m.text"}, "body": _TEXT, "format": {"const": "org.matrix.custom.html"},
                   "formatted_body": _TEXT},
    "dependentRequired": {"format": ["formatted_body"], "formatted_body": ["format"]},
}
GENERIC = {
    "type": "object", "required": ["workspace", "date", "owner", "sections", "text"],
    "properties": {"date": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}, "text": _TEXT,
                   "owner": {"type": "object", "required": ["id", "name"]},
                   "sections": {"type": "array", "minItems": 1, "items": {
                       "type": "object", "required": ["key", "title", "items"]}}},
}
SHAPES = {"slack": SLACK, "teams": TEAMS, "matrix": MATRIX, "generic": GENERIC}


class HtmlScan(HTMLParser):
    """Tags, links, and anything that would load a resource (src, stylesheets, url(...) in styles)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.links: list[str] = []
        self.resources: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        for name, value in attrs:
            if name == "href" and tag == "a":
                self.links.append(value or "")
            elif name in ("src", "srcset", "background", "poster", "data") or (name == "href" and tag == "link") \
                    or (name == "style" and value and re.search(r"url\(|@import", value)):
                self.resources.append(f"{tag} {name}={value}")
