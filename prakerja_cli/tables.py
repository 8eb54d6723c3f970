"""Rich tables as the CLI draws them: figures right-aligned and never broken across lines."""

from __future__ import annotations

from collections.abc import Collection

from rich.table import Table


def table(
    *headers: str, figures: Collection[str] = (), whole: Collection[str] = (), title: str = ""
) -> Table:
    """A table whose `figures` columns are right-aligned and, like the `whole` ones (times, ids), kept
    on one line: on a narrow terminal the words wrap, not `Rp1.234.567` or a time."""
    drawn = Table(title=title or None)
    for header in headers:
        keep = header in figures or header in whole
        drawn.add_column(header, justify="right" if header in figures else "left", no_wrap=keep)
    return drawn
