"""Money as exact Decimals: what was written, and the one rounding step to cents for display and JSON."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def cents(amount: Decimal) -> Decimal:
    """Round money to cents, half up (12.345 -> 12.35): the one rounding step for displayed amounts."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def decimal(number: float) -> Decimal:
    """A YAML number as an exact Decimal of what was written (0.1 -> Decimal('0.1'), not the binary float)."""
    return Decimal(str(number))
