"""robots.txt: search engines are asked to stay away unless crm.yaml's `publish: {allow_indexing: true}`."""

from __future__ import annotations

from plaintext_crm.site.pages import Page, SiteData, page_type

DISALLOW_ALL = "# Built by plaintext-crm: this site is not for search engines (crm.yaml: publish.allow_indexing).\n" \
               "User-agent: *\nDisallow: /\n"
ALLOW_ALL = "# Built by plaintext-crm with publish.allow_indexing: true.\nUser-agent: *\nAllow: /\n"


@page_type
def robots_pages(site: SiteData) -> list[Page]:
    """robots.txt, which every page's `noindex` meta backs up (a crawler that ignores one may heed the other)."""
    text = ALLOW_ALL if site.workspace.config.publish.allow_indexing else DISALLOW_ALL
    return [Page("robots.txt", "robots.txt", content=lambda site: text, records_only=True)]
