"""Table exports as CSV or XLSX: Rupiah amounts as numbers, text cells safe from formula injection."""

import csv
import io
from collections.abc import Iterable, Sequence

from django.http import HttpResponse
from django.utils.cache import patch_cache_control
from openpyxl import Workbook

EXPORT_FORMATS = ("csv", "xlsx")

# A cell starting with one of these is run as a formula by spreadsheet programs (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """Numbers stay numbers; text that a spreadsheet would evaluate is quoted with a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def export_response(
    *, filename: str, headers: Sequence[str], rows: Iterable[Sequence[object]], file_format: str
) -> HttpResponse:
    """An attachment named `filename`.csv/.xlsx holding `headers` and `rows`."""
    if file_format == "xlsx":
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet(title=filename[:31])
        sheet.append([str(header) for header in headers])
        for row in rows:
            sheet.append([safe_cell(value) for value in row])
        buffer = io.BytesIO()
        workbook.save(buffer)
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        response = HttpResponse(buffer.getvalue(), content_type=content_type)
    else:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([str(header) for header in headers])
        writer.writerows([safe_cell(value) for value in row] for row in rows)
        # The BOM lets Excel open the UTF-8 file with the right encoding.
        response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.{"xlsx" if file_format == "xlsx" else "csv"}"'
    # An export is officers' data: no copy in a shared computer's browser cache (nor a proxy's).
    patch_cache_control(response, private=True, no_store=True)
    return response
