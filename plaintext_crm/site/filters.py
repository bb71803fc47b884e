"""Jinja filters: small pure functions that format values, registered explicitly by `register`."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import quote

from jinja2 import Environment

CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "CHF": "CHF ", "SEK": "kr ", "NOK": "kr ",
                    "DKK": "kr "}


def money(value: float | Decimal | None, currency: str = "EUR", cents: bool = False) -> str:
    """`12500` -> `€12,500`; None -> an em dash. Rounds half up, to whole units unless `cents`."""
    if value is None:
        return "—"
    quantum = Decimal("0.01") if cents else Decimal(1)
    amount = Decimal(str(value)).quantize(quantum, rounding=ROUND_HALF_UP)
    sign = "-" if amount < 0 else ""
    text = f"{abs(amount):,.2f}" if cents else f"{abs(amount):,.0f}"
    symbol = CURRENCY_SYMBOLS.get((currency or "").upper())
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{text} {currency}"


def compact_money(value: float | Decimal | None, currency: str = "EUR") -> str:
    """`1234567` -> `€1.2M`, `48500` -> `€48.5k`: for chart labels and column totals."""
    if value is None:
        return "—"
    number = float(value)
    symbol = CURRENCY_SYMBOLS.get((currency or "").upper(), "")
    for limit, suffix in ((1_000_000_000, "B"), (1_000_000, "M"), (1_000, "k")):
        if abs(number) >= limit:
            scaled = Decimal(str(number / limit)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
            text = f"{scaled:f}".removesuffix(".0")
            return f"{symbol}{text}{suffix}" if symbol else f"{text}{suffix} {currency}"
    return money(number, currency)


def percent(value: float | None, digits: int = 0) -> str:
    """`0.4` -> `40%`; None -> an em dash."""
    if value is None:
        return "—"
    quantum = Decimal(1).scaleb(-digits) if digits else Decimal(1)
    scaled = (Decimal(str(value)) * 100).quantize(quantum, rounding=ROUND_HALF_UP)
    return f"{scaled}%"


def date(value: dt.date | str | None, style: str = "iso") -> str:
    """A date as `2026-11-26` (iso), `26 Nov 2026` (long) or `26 Nov` (short); None -> an em dash."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        text = value
        try:
            value = dt.date.fromisoformat(text)
        except ValueError:
            return text
    if style == "long":
        return f"{value.day} {value:%b %Y}"
    if style == "short":
        return f"{value.day} {value:%b}"
    return value.isoformat()


def month(value: str | dt.date | None) -> str:
    """`2026-12` -> `Dec 2026`; other text as it is."""
    if value is None:
        return "—"
    if isinstance(value, dt.date):
        return f"{value:%b %Y}"
    try:
        return f"{dt.date.fromisoformat(value + '-01'):%b %Y}"
    except ValueError:
        return str(value)


def days(value: int | None) -> str:
    """`1` -> `1 day`, `12` -> `12 days`; None -> an em dash."""
    if value is None:
        return "—"
    return f"{value} day" if abs(value) == 1 else f"{value} days"


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """`3, 'deal'` -> `3 deals`."""
    return f"{count} {singular if count == 1 else (plural_form or singular + 's')}"


def label(value: str | None) -> str:
    """`next_action_due` -> `Next action due`, `due_today` -> `Due today`."""
    if not value:
        return ""
    text = str(value).replace("_", " ").replace("-", " ")
    return text[:1].upper() + text[1:]


def yaml_value(value: Any) -> str:
    """A front matter value of any shape as short readable text (lists joined, mappings as JSON)."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return ", ".join(yaml_value(item) for item in value)
    if isinstance(value, Mapping):
        return json.dumps(value, default=str, ensure_ascii=False)
    return str(value)


def url_part(value: str) -> str:
    """A record id as a URL path segment (ids are file names: spaces and the like get escaped)."""
    return quote(str(value), safe="")


FILTERS: dict[str, Callable[..., Any]] = {
    "money": money,
    "compact_money": compact_money,
    "percent": percent,
    "date": date,
    "month": month,
    "days": days,
    "plural": plural,
    "label": label,
    "yaml_value": yaml_value,
    "url_part": url_part,
}


def register(env: Environment) -> None:
    """Add every filter of this module to a Jinja environment."""
    env.filters.update(FILTERS)
