"""`plaintext-crm revenue`: invoices sent and planned beside the weighted pipeline, by month and client."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from plaintext_crm.escape import json_dumps, terminal
from plaintext_crm.options import today_option, workspace_argument
from plaintext_crm.revenue import RevenueForecast


def render_revenue(revenue: RevenueForecast) -> str:
    """A month table (invoiced, booked, weighted pipeline, total), then the clients by total."""
    currency = revenue.currency
    header = ("month", "invoiced", "booked", "weighted", "total")
    rows = [header] + [(month.label, f"{month.invoiced:,.0f}", f"{month.booked:,.0f}",
                        f"{month.weighted_pipeline:,.0f}", f"{month.total:,.0f}") for month in revenue.months]
    rows.append(("total", f"{revenue.invoiced:,.0f}", f"{revenue.booked:,.0f}", f"{revenue.weighted_pipeline:,.0f}",
                 f"{revenue.invoiced + revenue.booked + revenue.weighted_pipeline:,.0f}"))
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    title = (f"Revenue in {currency} as of {revenue.status_date:%a %Y-%m-%d}: invoices sent, invoices planned "
             "(booked work) and open deals weighted")
    lines = [title, ""]
    lines += ["  ".join(cell.rjust(width) if index else cell.ljust(width)
                        for index, (cell, width) in enumerate(zip(row, widths, strict=True))).rstrip()
              for row in rows]
    lines += ["", "by client:"]
    lines += [terminal(f"  {row.name}: {row.total:,.0f} (invoiced {row.invoiced:,.0f}, booked {row.booked:,.0f}, "
                       f"weighted {row.weighted_pipeline:,.0f})") for row in revenue.clients]
    if revenue.unscheduled_deal_ids:
        lines.append(f"not in a month: {revenue.unscheduled_pipeline:,.0f} weighted from "
                     f"{len(revenue.unscheduled_deal_ids)} open deals whose expected close is missing or passed")
    return "\n".join(lines) + "\n"


@click.command("revenue")
@workspace_argument
@today_option
@click.option("--format", "output_format", type=click.Choice(("text", "json")), default="text", show_default=True,
              help="text for people, json for tools (the `revenue` of data.json).")
def revenue_command(workspace: Path | None, today: dt.date, output_format: str) -> None:
    """Show revenue by month: invoices sent, invoices planned from the delivery plan, weighted pipeline.

    See docs/delivery.md (invoices and the revenue forecast).
    """
    from plaintext_crm.analysis import load_analysis
    from plaintext_crm.records.loader import workspace_root

    analysis = load_analysis(workspace_root(workspace), today)
    if output_format == "json":
        click.echo(json_dumps(analysis.revenue.to_data()))
    else:
        click.echo(render_revenue(analysis.revenue), nl=False)
