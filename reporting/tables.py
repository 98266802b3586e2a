"""A report's rows as a `Table`, and its exports: the page, the API and the CSV/XLSX files all render the
same rows, so they cannot disagree."""

import csv
import io
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any


@dataclass
class Table:
    name: str
    title: str
    columns: list[tuple[str, str]]  # (key, label)
    rows: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)
    chart: dict | None = None

    def header(self) -> list[str]:
        return [label for _, label in self.columns]

    def values(self) -> list[list[Any]]:
        return [[row.get(key) for key, _ in self.columns] for row in self.rows]

    def display_rows(self) -> list[list[str]]:
        return [[display(value) for value in row] for row in self.values()]


def display(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return str(value)  # rounded where computed
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(value)


def table_csv(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table.header())
    writer.writerows(table.values())
    return out.getvalue()


def table_xlsx(table: Table) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = table.name[:31]
    sheet.append(table.header())
    for row in table.values():
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
