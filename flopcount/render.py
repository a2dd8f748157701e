"""Draw reports (flopcount.table) to a terminal, to plain text, to CSV and to Markdown.

The only module that imports rich. A renderer draws the Tables and Lines a report built: it
never computes a figure and knows a column only by its kind and alignment. Adding an output
format is one more function taking the same blocks.

Any name can reach a report (spec, layer and file names are user text), so each format
escapes for itself:

- terminal and plain text: control characters, lone surrogates and other unprintable
  characters are shown as Python escapes (``\\x1b``, ``\\n``, ``\\ud800``), so a name can
  neither move the cursor nor split a row; on a stream that cannot encode a character
  (a cp1252 log) borders become ASCII and symbols such as ✓ a plain word.
- Markdown: the same escapes, then ``\\``, ``|``, ``<``, ``>``, ``&``, ``[``, ``]`` and `````
  backslash-escaped, so every row keeps its columns and no name becomes a tag or a link.
- CSV: names as written, tabs and line breaks included (a cell holding a comma, quote, CR or
  LF is quoted), other unprintable characters escaped as on a terminal (an escape sequence
  would reach a terminal showing the CSV; NUL and lone surrogates cannot be written); a text
  cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a CR gets a leading ``'`` so a
  spreadsheet does not run it as a formula. Numbers are bare digits, never prefixed.
"""

from __future__ import annotations

import re

from .table import (
    BAD,
    BOX,
    GOOD,
    GRID,
    NUMBER,
    STRONG,
    Line,
    Span,
    Table,
    cell_text,
)

LARGE = 1000  # rows beyond which rich's per-cell layout (about 1 ms a row) is too slow even for a terminal
TEXT_FLOOR = 6  # a terminal too narrow for the table squeezes text columns down to this many cells, never numbers
STYLE = {GOOD: "green", BAD: "red", STRONG: "bold"}


# ---------------------------------------------------------------- text every format shares


def visible(text: str) -> str:
    """Unprintable characters (controls, lone surrogates, bidi overrides) as Python escapes; the rest as is."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


ASCII_FALLBACK = {"✓": "OK", "✗": "X", "×": "x", "→": "->", "…": "...", "²": "^2", "·": "*", "─": "-", "—": "-"}


def encodable(text: str, encoding: str) -> str:
    """text, with characters the stream's encoding lacks as ASCII words or backslash escapes."""
    if _unicode(encoding) or text.isascii():
        return text
    out = []
    for c in text:
        try:
            c.encode(encoding)
            out.append(c)
        except (UnicodeEncodeError, LookupError):
            out.append(ASCII_FALLBACK.get(c) or c.encode("ascii", "backslashreplace").decode())
    return "".join(out)


def _unicode(encoding: str | None) -> bool:
    return (encoding or "utf-8").lower().replace("_", "-").startswith("utf")


def _shown(encoding):
    """The function that makes a text showable on a stream of this encoding."""
    if _unicode(encoding):
        return visible
    return lambda text: encodable(visible(text), encoding)


# ---------------------------------------------------------------- plain text (pipes, files; rich's layout drawn directly)


def _boxes(frame: str, ascii_only: bool):
    from rich import box

    if frame == GRID:
        return None
    return box.ASCII if ascii_only else (box.HEAVY_HEAD if frame == BOX else box.SIMPLE_HEAD)


def _overhead(frame: str, n: int) -> int:
    """Cells a table's borders and padding take beyond its columns' widths."""
    return 2 * (n - 1) if frame == GRID else 3 * n + 1


def _layout(table: Table, show):
    """(headers, rows, natural widths) as shown; widths in terminal cells."""
    from rich.cells import cell_len

    heads = [show(c.title) for c in table.columns]
    rows = [[show(c if type(c) is str else cell_text(c)) for c in row] for row in table.rows]
    measured = [] if table.frame == GRID else [heads]
    widths = [0] * len(table.columns)
    for row in measured + rows:
        for i, text in enumerate(row):
            widths[i] = max(widths[i], len(text) if text.isascii() else cell_len(text))
    return heads, rows, widths


def _fill(text: str, width: int, justify: str) -> str:
    from rich.cells import cell_len

    gap = width - (len(text) if text.isascii() else cell_len(text))
    return " " * gap + text if justify == "right" else text + " " * gap


def plain_table(table: Table, encoding: str = "utf-8") -> list[str]:
    """The lines rich draws for this table at its natural width: nothing wraps, nothing is cut."""
    show = _shown(encoding)
    heads, rows, widths = _layout(table, show)
    justify = [c.justify for c in table.columns]
    box = _boxes(table.frame, not _unicode(encoding))
    if box is None:  # a grid: two spaces between columns, no borders, no header
        return ["  ".join(_fill(t, w, j) for t, w, j in zip(row, widths, justify)) for row in rows]

    def row_line(cells, left, bar, right):
        return left + bar.join(f" {_fill(t, w, j)} " for t, w, j in zip(cells, widths, justify)) + right

    padded = [w + 2 for w in widths]
    body = [box.get_top(padded), row_line(heads, box.head_left, box.head_vertical, box.head_right),
            box.get_row(padded, "head")]
    body += [row_line(r, box.mid_left, box.mid_vertical, box.mid_right) for r in rows]
    body.append(box.get_bottom(padded))
    if table.title:  # rich pads the title to the table's width; a longer title stays whole
        body.insert(0, _fill(show(table.title), len(body[0]), "left"))
    return body + [show(f.text) for f in table.footer]


def to_plain(blocks, encoding: str = "utf-8") -> str:
    """Tables and lines as text for a pipe or a file, one string ending in a newline."""
    out = []
    for block in blocks:
        if isinstance(block, Table):
            out += plain_table(block, encoding)
        else:
            out.append(encodable(visible(block.text), encoding))
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- terminal (rich)


def console(stderr: bool = False):
    """A rich console for the CLI: text printed as written (no markup, emoji codes or highlighting)."""
    from rich.console import Console

    class _Console(Console):
        def on_broken_pipe(self):  # rich would exit 1, the drift status; the CLI decides
            raise BrokenPipeError

    return _Console(highlight=False, markup=False, emoji=False, stderr=stderr)


def _rich_text(cell, show):
    from rich.text import Text

    if isinstance(cell, tuple):
        return Text.assemble(*((show(p.text), STYLE.get(p.tone)) if isinstance(p, Span) else show(p) for p in cell))
    return Text(show(cell_text(cell)))


def _rich_table(table: Table, width: int, show):
    """table as a rich Table; numbers keep their width, text columns fold when the terminal is narrow."""
    from rich import box
    from rich.table import Table as RichTable
    from rich.text import Text

    _, _, widths = _layout(table, show)
    if table.frame == GRID:
        out = RichTable.grid(padding=(0, 2))
    else:
        out = RichTable(title=Text(show(table.title)) if table.title else None, title_justify="left",
                        header_style="bold", box=box.HEAVY_HEAD if table.frame == BOX else box.SIMPLE_HEAD)
    least = _overhead(table.frame, len(widths))
    for column, natural in zip(table.columns, widths):
        if column.kind == NUMBER:
            out.add_column(show(column.title), justify=column.justify, no_wrap=True, min_width=natural)
            least += natural
        else:
            floor = min(natural, TEXT_FLOOR)
            out.add_column(show(column.title), justify=column.justify, overflow="fold", min_width=floor)
            least += floor
    if least > width:  # narrower than the numbers need: the table keeps its least width and lines run on
        out.width = least
    for row in table.rows:
        out.add_row(*(_rich_text(cell, show) for cell in row))
    return out


def to_console(blocks, console) -> None:
    """Print tables and lines: rich's layout, fitted and coloured, on a terminal; the plain drawing elsewhere."""
    encoding = console.encoding
    if not console.is_terminal:  # already escaped and encodable: written as is, past rich's line splitting
        console.file.write(to_plain(blocks, encoding))
        return
    show = _shown(encoding)
    for block in blocks:
        if isinstance(block, Line):
            console.print(_rich_text(block.parts, show), soft_wrap=True)
        elif len(block.rows) > LARGE:  # rich's layout would take seconds: the plain drawing, lines run on
            console.file.write("\n".join(plain_table(block, encoding)) + "\n")
        else:
            console.print(_rich_table(block, console.width, show), crop=False)
            for f in block.footer:
                console.print(_rich_text(f.parts, show), soft_wrap=True)


# ---------------------------------------------------------------- Markdown

_MD_SPECIAL = re.compile(r"([\\|<>&\[\]`])")
_MD_BLOCK_START = re.compile(r"^(\s*)([#>*+=-]|\d+[.)])")


def md(text: str) -> str:
    """Text safe inside a Markdown table cell or paragraph: escapes, then Markdown's special characters."""
    return _MD_SPECIAL.sub(r"\\\1", visible(text))


def _md_line(text: str) -> str:
    """A paragraph line that cannot turn into a heading, quote or list item."""
    return _MD_BLOCK_START.sub(lambda m: m.group(1) + "\\" + m.group(2), md(text), count=1)


def markdown_table(table: Table) -> str:
    heads = [md(c.title) for c in table.columns]
    lines = ["| " + " | ".join(heads) + " |", "|" + "|".join("---" for _ in heads) + "|"]
    lines += ["| " + " | ".join(md(cell_text(c)) for c in row) + " |" for row in table.rows]
    return "\n".join(lines)


def to_markdown(blocks) -> str:
    """GitHub-flavoured Markdown: titles as headings, tables, lines as paragraphs."""
    parts = []
    for block in blocks:
        if isinstance(block, Table):
            if block.title:
                parts.append("#" * (2 + block.level) + " " + md(block.title))
            parts.append(markdown_table(block))
            parts += [_md_line(f.text) for f in block.footer]
        elif block.text:
            parts.append(_md_line(block.text))
    return "\n\n".join(parts) + "\n"


# ---------------------------------------------------------------- CSV

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_text(text: str) -> str:
    if not text.isprintable():  # tabs and line breaks are data; escape sequences, NUL or a lone surrogate are not
        text = "".join(c if c in "\t\r\n" else visible(c) for c in text)
    if text.startswith(FORMULA_START):
        text = "'" + text
    if any(c in text for c in ',"\r\n'):
        text = '"' + text.replace('"', '""') + '"'
    return text


def to_csv(table: Table) -> str:
    """A header of column keys, then one line per row; exact integers as bare digits."""
    lines = [",".join(_csv_text(c.key) for c in table.columns)]
    for row in table.rows:
        lines.append(",".join(str(cell) if isinstance(cell, int) else _csv_text(cell_text(cell)) for cell in row))
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- progress of a run


def run_progress(console, enabled: bool = True):
    """A context yielding a progress(done, total, node) callback for a transient bar, or None when off or not a terminal."""
    from contextlib import contextmanager

    @contextmanager
    def bar():
        if not enabled or not console.is_terminal:
            yield None
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        with Progress(TextColumn("{task.description}", markup=False), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=console, transient=True) as progress:
            task = progress.add_task("running", total=None)

            def advance(done, total, node):
                progress.update(task, completed=done, total=total, description=f"ran {visible(node.name)}")

            yield advance

    return bar()
