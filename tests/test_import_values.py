"""Reading messy export cells and files: amounts, dates, encodings, delimiters, ids."""

from __future__ import annotations

import codecs
import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plaintext_crm.editing.imports.csvread import ImportFailed, decode_export, parse_table, sniff_delimiter
from plaintext_crm.editing.imports.values import (
    DateReader,
    date_format_order,
    decimal_comma,
    parse_amount,
    slash_order,
    slug,
    snake_case,
    source_id,
)


@pytest.mark.parametrize(("text", "expected"), [
    ("$12,500.00", (12500, "USD")),
    ("12.500,00 €", (12500, "EUR")),
    ("12 500", (12500, None)),
    ("12\u00a0500,50", (12500.5, None)),
    ("1.2e4", (12000, None)),
    ("EUR 900", (900, "EUR")),
    ("£1,234.56", (1234.56, "GBP")),
    ("12,5", (12.5, None)),
    ("(1,200.00)", (-1200, None)),
    ("0.25", (0.25, None)),
])
def test_amounts_in_every_common_style(text: str, expected: tuple[object, object]) -> None:
    assert parse_amount(text) == expected


def test_a_column_with_decimal_commas_reads_a_lone_dot_as_thousands() -> None:
    column = ["12.500,00 €", "8.000"]
    assert decimal_comma(column) is True
    assert parse_amount("8.000", decimal_comma(column)) == (8000, None)
    assert parse_amount("8.000") == (8, None)  # without a hint the dot is a decimal point
    assert decimal_comma(["$12,500.00"]) is False


@pytest.mark.parametrize("text", ["abc", "12..5", "", "$"])
def test_an_amount_that_is_not_one_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_amount(text)


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-03-04", dt.date(2026, 3, 4)),
    ("2026-03-04 14:30", dt.date(2026, 3, 4)),
    ("2026-03-04T14:30:00Z", dt.date(2026, 3, 4)),
    ("04.03.2026", dt.date(2026, 3, 4)),
    ("04.03.2026 10:00", dt.date(2026, 3, 4)),
    ("46023", dt.date(2026, 1, 1)),
    ("46023.5", dt.date(2026, 1, 1)),
    ("2026/03/04", dt.date(2026, 3, 4)),
])
def test_dates_in_every_common_form(text: str, expected: dt.date) -> None:
    assert DateReader(None).read(text) == expected


def test_slashed_dates_need_an_order_when_both_parts_are_twelve_or_less() -> None:
    with pytest.raises(ValueError, match="--date-format"):
        DateReader(None).read("03/04/2026")
    assert DateReader(True).read("03/04/2026") == dt.date(2026, 3, 4)
    assert DateReader(False).read("03/04/2026") == dt.date(2026, 4, 3)
    assert DateReader(None).read("11/30/2026") == dt.date(2026, 11, 30)  # only one order is a date
    assert DateReader(None).read("30/11/2026") == dt.date(2026, 11, 30)
    assert DateReader(None).read("05/05/2026") == dt.date(2026, 5, 5)  # both orders agree


def test_the_order_of_a_file_comes_from_its_disambiguating_dates() -> None:
    assert slash_order(["03/04/2026", "11/30/2026"]) is True
    assert slash_order(["03/04/2026", "30/11/2026"]) is False
    assert slash_order(["03/04/2026", "2026-01-01"]) is None
    with pytest.raises(ValueError, match="mix"):
        slash_order(["11/30/2026", "30/11/2026"])
    assert date_format_order("DD/MM/YYYY") is False
    assert date_format_order("mm/dd/yyyy") is True
    with pytest.raises(ValueError):
        date_format_order("YYYY")


@pytest.mark.parametrize("text", ["2026-02-30", "13.13.2026", "yesterday", "31/31/2026"])
def test_impossible_dates_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        DateReader(None).read(text)


def test_ids_and_keys() -> None:
    assert slug("Acme GmbH – Website Redesign!") == "acme-gmbh-website-redesign"
    assert slug("Café Müller") == "cafe-muller"
    assert len(slug("word " * 40)) <= 60
    assert snake_case("Deal Type") == "deal_type"
    assert snake_case("2nd contact") == "x_2nd_contact"
    assert source_id("9001") == 9001
    assert source_id("0042") == "0042"
    assert source_id("abc-1") == "abc-1"


def test_encodings_bom_utf16_and_cp1252() -> None:
    text = "Name,City\nJosé,Köln\n"
    assert decode_export(codecs.BOM_UTF8 + text.encode(), "f")[:2] == (text, "utf-8-sig")
    assert decode_export(text.encode(), "f")[:2] == (text, "utf-8")
    assert decode_export(codecs.BOM_UTF16_LE + text.encode("utf-16-le"), "f")[0] == text
    assert decode_export(text.encode("utf-16-le"), "f")[0] == text  # no BOM: the NUL bytes tell
    decoded, encoding, notices = decode_export(text.encode("cp1252"), "f.csv")
    assert (decoded, encoding) == (text, "cp1252")
    assert notices == [("f.csv:2: not UTF-8; read as Windows-1252 (cp1252), as older Excel versions save it: "
                       "check accented letters in the imported records")]


def test_delimiters_are_sniffed_from_the_header() -> None:
    assert sniff_delimiter("a,b,c\n1,2,3") == ","
    assert sniff_delimiter("a;b;c\n1,5;2;3") == ";"
    assert sniff_delimiter("a\tb\n1\t2") == "\t"
    assert sniff_delimiter('"a;b",c,d\n') == ","


def test_quoted_newlines_and_empty_rows_keep_their_lines() -> None:
    table = parse_table('Name,Notes\r\nA,"two\r\nlines"\r\n,\r\n\r\nB,x\r\n', "t.csv")
    assert [(row.line, dict(row.cells)) for row in table.rows] == [
        (2, {"Name": "A", "Notes": "two\r\nlines"}), (6, {"Name": "B", "Notes": "x"})]
    assert table.notices == ("t.csv: skipped 2 empty rows",)


def test_a_row_with_more_cells_than_headers_is_refused_with_its_line() -> None:
    with pytest.raises(ImportFailed, match=r"t.csv:3: the row has 3 cells"):
        parse_table("a,b\n1,2\n1,2,3\n", "t.csv")
    with pytest.raises(ImportFailed, match="appears twice"):
        parse_table("Name,name \n1,2\n", "t.csv")



@settings(max_examples=100, deadline=None)
@given(st.text(st.characters(codec="utf-8"), max_size=40) | st.from_regex(r"[$€ (]?[-+]?[\d.,' e]{1,20}[ €)]?"))
def test_any_cell_is_an_amount_or_a_value_error(text: str) -> None:
    for read in (parse_amount, DateReader(None).read, DateReader(True).read):
        try:
            read(text)
        except ValueError:
            pass


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_are_a_table_or_a_clear_refusal(data: bytes) -> None:
    try:
        text, _encoding, _notices = decode_export(data, "f.csv")
        parse_table(text, "f.csv")
    except ImportFailed as exc:
        assert exc.message.startswith("f.csv")
