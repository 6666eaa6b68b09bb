"""CSV cells a spreadsheet cannot run: text that starts like a formula is quoted as plain text.

Excel, LibreOffice and WPS evaluate a cell whose text starts with = + - @ (and, through DDE, with a
tab or carriage return before one), so a district or community name such as `=HYPERLINK(...)` in an
export would run on the reader's machine. Such text gets a leading apostrophe, which spreadsheets
show as text (OWASP's advice for CSV injection). Numbers are written as numbers: a negative figure
is data, not a formula.
"""

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_line(values) -> list:
    return [safe_cell(value) for value in values]
