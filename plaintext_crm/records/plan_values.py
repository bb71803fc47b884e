"""Reading the plan values of tasks (effort, percent, invoice) for the loader: numbers with their own ranges."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from plaintext_crm.records.fields import MAX_AMOUNT, MAX_WORKING_DAYS
from plaintext_crm.records.frontmatter import shown_number
from plaintext_crm.records.model import Invoice


class PlanValues:
    """Readers of the loader's field reader (loader._Fields) for `effort`, `percent` and `invoice`."""

    data: Mapping[str, Any]

    def invalid(self, key: str, message: str) -> None:
        raise NotImplementedError

    def number(self, key: str) -> float | None:
        raise NotImplementedError

    def effort(self, key: str) -> float | None:
        value = self.number(key)
        if value is not None and not 0 <= value <= MAX_WORKING_DAYS:
            self.invalid(key, f"'{key}': {shown_number(value)} must be working days from 0 to {MAX_WORKING_DAYS}")
            return None
        return value

    def percent(self, key: str) -> float | None:
        value = self.data.get(key)
        if isinstance(value, str) and value.strip().endswith("%"):
            value = _percent_number(value)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
            self.invalid(key, f"'{key}': '{shown_number(value)}' must be a per cent from 0 to 100")
            return None
        return float(value)

    def invoice(self, key: str) -> Invoice | None:
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, str) and value.strip().endswith("%"):
            share = _percent_number(value)
            if isinstance(share, float) and 0 < share <= 100:
                return Invoice(share=share)
        elif not isinstance(value, bool) and isinstance(value, int | float) and 0 < value <= MAX_AMOUNT:
            return Invoice(amount=float(value))
        self.invalid(key, f"'{key}': '{shown_number(value)}' must be a share of the budget like 30% or an amount "
                          "like 12000")
        return None


def _percent_number(text: str) -> float | str:
    """'30%' -> 30.0; the text itself when it is not a number followed by %."""
    try:
        number = float(text.strip()[:-1].strip())
    except ValueError:
        return text
    return number if math.isfinite(number) else text
