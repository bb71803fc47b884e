"""A digest as a self-contained HTML document: the HTML part of the email (no external resources at all).

Every value is escaped by markupsafe (as the site's autoescape does) after its control and bidi
characters are made visible; links point only at the published site's pages (crm.yaml's `site_url`).
"""

from __future__ import annotations

from markupsafe import Markup, escape

from plaintext_crm.escape import terminal
from plaintext_crm.notify.digest import Digest, DigestItem
from plaintext_crm.notify.render_text import heading

_BODY = "font-family:-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;color:#1f2328;max-width:40em"
_MUTED = "color:#59636e;font-size:90%"


def _text(value: str) -> Markup:
    return escape(terminal(value))


def _item(item: DigestItem) -> Markup:
    title = _text(item.title)
    if item.url:
        title = Markup('<a href="{}">{}</a>').format(item.url, title)
    where = Markup(' <span style="{}">{}</span>').format(_MUTED, _text(item.path)) if not item.url else Markup("")
    return Markup("<li>{}: {}{}</li>").format(title, _text(item.detail), where)


def render_html(digest: Digest, footer: str = "") -> str:
    """One owner's digest as a whole HTML document; `footer` (plain text) closes it (how to turn it off)."""
    parts = [Markup('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
                    '<meta name="viewport" content="width=device-width">'),
             Markup("<title>{}</title></head>\n").format(_text(heading(digest))),
             Markup('<body style="{}">\n<h1 style="font-size:130%">{}</h1>\n').format(_BODY, _text(heading(digest)))]
    if digest.empty:
        parts.append(Markup("<p>Nothing due.</p>\n"))
    for section in digest.sections:
        parts.append(Markup('<h2 style="font-size:110%">{} ({})</h2>\n<ul>\n').format(section.title,
                                                                                     len(section.items)))
        parts += [_item(item) + Markup("\n") for item in section.items]
        parts.append(Markup("</ul>\n"))
    if footer:
        parts.append(Markup('<p style="{}">{}</p>\n').format(_MUTED, _text(footer)))
    parts.append(Markup("</body></html>\n"))
    return str(Markup("").join(parts))
