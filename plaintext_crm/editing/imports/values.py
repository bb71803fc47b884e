"""Cell values of real exports: amounts in any locale's style, dates in any common order, readable ids."""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from plaintext_crm.records.model import EARLIEST_DAY, LATEST_DAY

_SYMBOLS = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR", "CHF": "CHF", "Fr.": "CHF"}
_CODE = re.compile(r"(?<![A-Za-z])([A-Z]{3})(?![A-Za-z])")
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009']")
_SCIENTIFIC = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)[eE][+-]?\d+$")
_PLAIN = re.compile(r"^[+-]?\d+$")


def _number(text: str) -> int | float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("not a finite number")
    if _PLAIN.match(text):
        return int(text)
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


def decimal_comma(values: Iterable[str]) -> bool | None:
    """Whether a column's amounts write the decimal mark as `,` (12.500,00): the first amount with cents
    or with both marks tells; None when none does."""
    for value in values:
        cleaned = _SPACES.sub("", value)
        if "," in cleaned and "." in cleaned:
            return cleaned.rfind(",") > cleaned.rfind(".")
        if re.search(r",\d{1,2}\D*$", cleaned):
            return True
        if re.search(r"\.\d{1,2}\D*$", cleaned):
            return False
    return None


def parse_amount(text: str, comma_decimal: bool | None = None) -> tuple[int | float, str | None]:
    """(amount, currency code or None) of `$12,500.00`, `12.500,00 €`, `12 500`, `1.2e4`, `USD 900`.

    With both `,` and `.`, the last one is the decimal mark; a lone `,` followed by exactly three digits
    groups thousands (`12,500`), else it is the decimal mark (`12,5`); dots, spaces and apostrophes that
    group thousands are dropped. `comma_decimal` (from the column, see decimal_comma) settles `8.000` and
    `12,500`. Raises ValueError for anything else.
    """
    cleaned = text.strip()
    currency = None
    for symbol, code in _SYMBOLS.items():
        if symbol in cleaned:
            currency, cleaned = code, cleaned.replace(symbol, "")
    code_match = _CODE.search(cleaned)
    if code_match:
        currency, cleaned = code_match.group(1), cleaned.replace(code_match.group(1), "")
    cleaned = _SPACES.sub("", cleaned)
    if cleaned.startswith("(") and cleaned.endswith(")"):  # accounting negatives
        cleaned = "-" + cleaned[1:-1]
    if not cleaned:
        raise ValueError(f"'{text}' holds no amount")
    if _SCIENTIFIC.match(cleaned):
        return _number(cleaned), currency
    if "," in cleaned and "." in cleaned:
        decimal = "," if cleaned.rfind(",") > cleaned.rfind(".") else "."
        group = "." if decimal == "," else ","
        whole, _, cents = cleaned.rpartition(decimal)
        if not re.fullmatch(r"[+-]?\d{1,3}(" + re.escape(group) + r"\d{3})*", whole) or not cents.isdigit():
            raise ValueError(f"'{text}' is not an amount (like 12500, $12,500.00 or 12.500,00 €)")
        cleaned = whole.replace(group, "") + "." + cents
    elif cleaned.count(",") == 1 and (comma_decimal or not re.search(r",\d{3}$", cleaned)):
        cleaned = cleaned.replace(",", ".")
    elif cleaned.count(".") == 1 and comma_decimal and re.search(r"\.\d{3}$", cleaned):
        cleaned = cleaned.replace(".", "")
    elif "," in cleaned and re.fullmatch(r"[+-]?\d{1,3}(,\d{3})+", cleaned):
        cleaned = cleaned.replace(",", "")
    elif cleaned.count(".") > 1 and re.fullmatch(r"[+-]?\d{1,3}(\.\d{3})+", cleaned):
        cleaned = cleaned.replace(".", "")
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", cleaned):
        raise ValueError(f"'{text}' is not an amount (like 12500, $12,500.00 or 12.500,00 €)")
    return _number(cleaned), currency


# ---------------------------------------------------------------- dates

DATE_FORMATS = ("MM/DD/YYYY", "DD/MM/YYYY")  # the choices of --date-format for day-month ambiguity
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?$")
_YMD_SLASH = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})(?:[T ].*)?$")
_DOTTED = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})(?: .*)?$")  # DD.MM.YYYY: never month first
_SLASHED = re.compile(r"^(\d{1,2})[/-](\d{1,2})[/-](\d{4})(?: .*)?$")
_SERIAL = re.compile(r"^\d{1,7}(\.\d+)?$")
_EXCEL_EPOCH = dt.date(1899, 12, 30)  # serial 1 is 1900-01-01 (Excel's leap-year bug makes it 12-30)


def excel_serial(text: str) -> dt.date:
    """The date of an Excel serial number (`46115`, `46115.5` with a time)."""
    day = _EXCEL_EPOCH + dt.timedelta(days=int(float(text)))
    return day


def _checked(year: int, month: int, day: int, text: str) -> dt.date:
    try:
        value = dt.date(year, month, day)
    except ValueError:
        raise ValueError(f"'{text}' is not a date of the calendar") from None
    if not EARLIEST_DAY <= value <= LATEST_DAY:
        raise ValueError(f"'{text}' is outside the years {EARLIEST_DAY.year}-{LATEST_DAY.year}")
    return value


@dataclass(frozen=True, slots=True)
class DateReader:
    """Reads every date of one import the same way; `month_first` settles 03/04/2026 (None: not known)."""

    month_first: bool | None = None

    def read(self, text: str) -> dt.date:
        """The date in `text` (its time of day, if any, is dropped); ValueError saying why not."""
        cleaned = text.strip()
        for pattern, order in ((_ISO, "ymd"), (_YMD_SLASH, "ymd"), (_DOTTED, "dmy")):
            match = pattern.match(cleaned)
            if match:
                first, second, third = (int(part) for part in match.groups())
                if order == "ymd":
                    return _checked(first, second, third, text)
                return _checked(third, second, first, text)
        match = _SLASHED.match(cleaned)
        if match:
            first, second, year = (int(part) for part in match.groups())
            month_first = self.month_first
            if month_first is None:
                if first > 12 >= second:
                    month_first = False
                elif second > 12 >= first:
                    month_first = True
                elif first != second:
                    raise ValueError(f"'{text}' could be day-month or month-day; say which with --date-format "
                                     f"{' or '.join(DATE_FORMATS)}")
                else:
                    month_first = True
            return _checked(year, first, second, text) if month_first else _checked(year, second, first, text)
        if _SERIAL.match(cleaned) and 1 <= float(cleaned) < 2958466:
            return excel_serial(cleaned)
        raise ValueError(f"'{text}' is not a date (YYYY-MM-DD, MM/DD/YYYY, DD.MM.YYYY or an Excel serial number)")


def slash_order(values: Iterable[str]) -> bool | None:
    """Whether the `a/b/YYYY` dates among `values` are month first (True), day first (False), or cannot
    tell (None: every one has both parts up to 12). Raises ValueError when the values disagree."""
    month_first = day_first = None
    for value in values:
        match = _SLASHED.match(value.strip())
        if not match:
            continue
        first, second = int(match.group(1)), int(match.group(2))
        if first > 12 >= second and day_first is None:
            day_first = value.strip()
        elif second > 12 >= first and month_first is None:
            month_first = value.strip()
    if month_first and day_first:
        raise ValueError(f"the dates mix orders: '{month_first}' is month first, '{day_first}' day first")
    if month_first:
        return True
    if day_first:
        return False
    return None


def date_format_order(option: str) -> bool:
    """--date-format MM/DD/YYYY -> month first (True), DD/MM/YYYY -> False."""
    normal = option.strip().upper().replace("-", "/").replace(".", "/")
    if normal in ("MM/DD/YYYY", "MDY", "M/D/Y"):
        return True
    if normal in ("DD/MM/YYYY", "DMY", "D/M/Y"):
        return False
    raise ValueError(f"--date-format: '{option}' is neither {' nor '.join(DATE_FORMATS)}")


# ---------------------------------------------------------------- ids and keys

MAX_SLUG = 60


def slug(text: str) -> str:
    """A readable id from a title or name: `Acme GmbH – Website redesign` -> `acme-gmbh-website-redesign`."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    words = re.sub(r"[^a-z0-9]+", "-", ascii_text.casefold()).strip("-")
    if len(words) > MAX_SLUG:
        words = words[:MAX_SLUG].rsplit("-", 1)[0] if "-" in words[:MAX_SLUG] else words[:MAX_SLUG]
    return words.strip("-")


def snake_case(header: str) -> str:
    """The front matter key of an unmapped column: `Deal - Lead source` -> `lead_source`."""
    ascii_text = unicodedata.normalize("NFKD", header).encode("ascii", "ignore").decode("ascii")
    key = re.sub(r"[^a-z0-9]+", "_", ascii_text.casefold()).strip("_")
    if not key:
        key = "column"
    return f"x_{key}" if key[0].isdigit() else key


def source_id(text: str) -> int | str:
    """A vendor's record id as written in front matter: a number stays a number, anything else text."""
    cleaned = text.strip()
    return int(cleaned) if re.fullmatch(r"[1-9]\d{0,17}", cleaned) else cleaned
