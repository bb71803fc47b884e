"""`plaintext-crm serve`: build the site, serve it on loopback, rebuild on save and reload open pages (docs/serve.md)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from plaintext_crm.options import today_option, workspace_argument
from plaintext_crm.records.loader import workspace_root


@click.command()
@workspace_argument
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port to listen on (0: any free port).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; the default serves this computer only.")
@click.option("-o", "--out", "out", type=click.Path(file_okay=False, path_type=Path),
              help="Output folder (default: site/ inside the workspace).")
@today_option
@click.option("--no-cache", is_flag=True, help="Start from a full build that ignores the caches.")
@click.option("-j", "--jobs", type=click.IntRange(1, 64), help="Worker processes for full builds.")
@click.option("--audience", metavar="NAME", help="Serve only what crm.yaml's audience NAME sees (docs/publishing.md).")
@click.option("--encrypt", is_flag=True, help="Serve the encrypted site (passphrase from PLAINTEXT_CRM_SITE_PASSWORD "
                                              "or --password-file), to try it before publishing.")
@click.option("--password-file", type=click.Path(dir_okay=False, path_type=Path),
              help="A file whose first line is the passphrase of --encrypt.")
def serve(workspace: Path | None, port: int, host: str, out: Path | None, today: dt.date, no_cache: bool,
          jobs: int | None, audience: str | None, encrypt: bool, password_file: Path | None) -> None:
    """Build the site of WORKSPACE, serve it at http://HOST:PORT/, and rebuild it whenever a record,
    crm.yaml or a template is saved; open pages reload by themselves.

    Only the pages a save affects are rendered again. A file that no longer parses is reported in the
    terminal and in a banner on the served pages while the rest of the site keeps updating; a failed
    build (a template error) keeps the last good site. Ctrl-C stops. Exit status 2 when the server
    cannot start (for instance, the port is in use).
    """
    from plaintext_crm.site.serve import serve_site
    from plaintext_crm.site.watch import today_source

    root = workspace_root(workspace)
    if password_file is not None and not encrypt:
        raise click.UsageError("--password-file is the passphrase of --encrypt; add --encrypt")
    if audience is not None:  # refused before serving anything, as `build` does
        from plaintext_crm.records.audience import check_audience
        from plaintext_crm.records.loader import load_workspace

        loaded, _findings = load_workspace(root)
        check_audience(loaded.config, audience, loaded)
    passphrase = None
    if encrypt:
        from plaintext_crm.site.encrypt import read_passphrase

        passphrase = read_passphrase(password_file)
    serve_site(root, out if out is not None else root / "site", today_source(today), host=host, port=port,
               use_cache=not no_cache, jobs=jobs, audience=audience, passphrase=passphrase)
