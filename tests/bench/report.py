"""Plain-text tables and number formats for the benchmark's output."""

from __future__ import annotations

from collections.abc import Sequence


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], indent: str = "  ") -> str:
    """Columns left-aligned when they hold text, right-aligned when they hold numbers."""
    widths = [len(header) for header in headers]
    for row in rows:
        for column, cell in enumerate(row):
            widths[column] = max(widths[column], len(cell))
    numeric = [
        bool(rows) and all(_looks_numeric(row[column]) for row in rows)
        for column in range(len(headers))
    ]

    def line(cells: Sequence[str]) -> str:
        parts = [
            cell.rjust(width) if is_number else cell.ljust(width)
            for cell, width, is_number in zip(cells, widths, numeric, strict=True)
        ]
        return (indent + "  ".join(parts)).rstrip()

    rule = indent + "  ".join("-" * width for width in widths)
    return "\n".join([line(headers), rule, *(line(row) for row in rows)])


def _looks_numeric(cell: str) -> bool:
    stripped = cell.replace(",", "").replace(".", "").replace("%", "").replace("-", "")
    return stripped.isdigit() or cell in ("", "n/a")


def rate(value: float) -> str:
    return f"{value:,.0f}"


def millis(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def percent(value: float) -> str:
    return f"{value * 100:.0f}%"


def ratio(value: float) -> str:
    return f"{value:.2f}"
