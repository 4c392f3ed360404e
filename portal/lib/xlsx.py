"""Every uploaded .xlsx is read here first, within limits fixed before a byte is inflated.

The registry import and the Table-1 upload (and any later import) hand the uploaded bytes to
``xlsx_check`` before openpyxl sees them. It walks the archive's members and inflates each in
small chunks, counting what really comes out: the total, each member, the number of members, and
in each sheet the rows, the cells of a row and the merged cells, all against the settings
(``XLSX_MAX_*``, see settings.py). A member that inflates past the size its header declares is
refused the moment it does: the zip bomb whose sheet declares 200 bytes but unpacks to a gigabyte
costs a few kilobytes of memory, not the gigabyte. (Python's zipfile trusts the declared size and
inflates a whole ``read()`` in one call, up to 2 GB, before it notices the lie.)

Once every member is known to inflate to exactly its declared size and checksum, within the
limits, openpyxl may read the same bytes: nothing in them can unpack further.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass, field, replace
from typing import Any
from xml.parsers import expat

from django.conf import settings
from django.utils.translation import gettext as _

from portal.errors import ValidationFailed

CHUNK = 64 * 1024
REQUIRED_MEMBERS = ("[Content_Types].xml", "xl/workbook.xml")
XLSX_MAIN_CONTENT_TYPE = (
    b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
)
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")  # zipfile.structFileHeader
_LOCAL_SIGNATURE = b"PK\003\004"
_END_RECORD = struct.Struct("<4s4H2LH")  # zipfile.structEndArchive
_END_SIGNATURE = b"PK\005\006"
_STORED, _DEFLATED = 0, 8
_ENCRYPTED = 0x1


@dataclass(frozen=True)
class XlsxLimits:
    """What an uploaded workbook may hold; ``from_settings`` reads the XLSX_* settings."""

    max_bytes: int
    max_member_bytes: int
    max_members: int
    max_rows: int
    max_columns: int
    max_cells: int
    max_merged_cells: int

    @classmethod
    def from_settings(cls, **overrides: int) -> XlsxLimits:
        limits = cls(
            max_bytes=settings.XLSX_MAX_UNCOMPRESSED_BYTES,
            max_member_bytes=settings.XLSX_MAX_MEMBER_BYTES,
            max_members=settings.XLSX_MAX_MEMBERS,
            max_rows=settings.XLSX_MAX_ROWS,
            max_columns=settings.XLSX_MAX_COLUMNS,
            max_cells=settings.XLSX_MAX_CELLS,
            max_merged_cells=settings.XLSX_MAX_MERGED_CELLS,
        )
        return replace(limits, **overrides)


@dataclass
class SheetShape:
    """What the scan of one sheet's XML found: its extent, cells and merged cells."""

    member: str
    rows: int = 0
    columns: int = 0
    cells: int = 0
    merged_cells: int = 0


@dataclass
class XlsxContents:
    """An archive that passed: its members' real sizes and its sheets' shapes."""

    members: dict[str, int] = field(default_factory=dict)
    sheets: list[SheetShape] = field(default_factory=list)

    @property
    def total_bytes(self) -> int:
        return sum(self.members.values())


class XlsxRefused(ValidationFailed):
    """The upload is not an .xlsx workbook within the limits; ``message`` says why, in Russian."""


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.0f}" if size >= 1024 * 1024 else f"{size / (1024 * 1024):.2f}"


def not_xlsx() -> XlsxRefused:
    return XlsxRefused(_("Файл не является книгой Excel в формате .xlsx. Сохраните его как "
                         "«Книга Excel (*.xlsx)» и загрузите снова."))


def damaged(detail: str = "") -> XlsxRefused:
    text = _("Файл .xlsx повреждён: архив книги не читается")
    return XlsxRefused(f"{text} ({detail})." if detail else f"{text}.")


def too_many_members(limits: XlsxLimits) -> XlsxRefused:
    return XlsxRefused(_("В файле слишком много внутренних частей (больше %(n)s); это не "
                         "книга Excel.") % {"n": limits.max_members})


def too_much_merged(limits: XlsxLimits) -> XlsxRefused:
    # openpyxl makes an object for every cell of a merged range: A1:XFD1048576 is 17 billion.
    return XlsxRefused(_("Файл отклонён: в нём объединены слишком большие области ячеек "
                         "(больше %(n)s ячеек).") % {"n": limits.max_merged_cells})


def bomb(limit: int) -> XlsxRefused:
    return XlsxRefused(
        _("Файл слишком велик после распаковки (похоже на «zip-бомбу»): допускается не более "
          "%(mb)s МБ данных.") % {"mb": _mb(limit)})


def false_size(member: str) -> XlsxRefused:
    return XlsxRefused(
        _("Файл отклонён: часть «%(member)s» распаковывается больше заявленного в архиве размера "
          "(похоже на «zip-бомбу»).") % {"member": member[:100]})


def xlsx_check(data: bytes, *, limits: XlsxLimits | None = None) -> XlsxContents:
    """Refuse (XlsxRefused) anything but an .xlsx workbook within ``limits``, reading nothing
    past them; return the members' real sizes and the sheets' shapes."""
    limits = limits or XlsxLimits.from_settings()
    contents, total = XlsxContents(), 0
    for info in _central_directory(data, limits):
        cells = sum(sheet.cells for sheet in contents.sheets)
        scan = _SheetScan(info.filename, limits, cells) if _is_sheet(info.filename) else None
        head = b"" if info.filename == "[Content_Types].xml" else None
        size = 0
        for chunk in _inflate(data, info, limits, already=total):
            size += len(chunk)
            if scan is not None:
                scan.feed(chunk)
            if head is not None and len(head) < CHUNK:
                head += chunk[:CHUNK - len(head)]
        if scan is not None:
            contents.sheets.append(scan.close())
            if sum(sheet.merged_cells for sheet in contents.sheets) > limits.max_merged_cells:
                raise too_much_merged(limits)
        if head is not None and XLSX_MAIN_CONTENT_TYPE not in head:
            raise not_xlsx()
        total += size
        contents.members[info.filename] = contents.members.get(info.filename, 0) + size
    return contents


def _central_directory(data: bytes, limits: XlsxLimits) -> list[zipfile.ZipInfo]:
    """The members as the central directory lists them, checked before any is inflated."""
    if not data.startswith(_LOCAL_SIGNATURE):
        raise not_xlsx()
    entries, directory_size = _end_record(data)
    # Checked before zipfile builds an object per entry: a few MB of directory would be
    # hundreds of thousands of them.
    if entries > limits.max_members or directory_size > limits.max_members * 1024:
        raise too_many_members(limits)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError,
            ValueError, EOFError) as exc:
        raise not_xlsx() from exc
    if len(members) > limits.max_members:
        raise too_many_members(limits)
    names = {m.filename for m in members}
    if not all(name in names for name in REQUIRED_MEMBERS):
        raise not_xlsx()
    # The declared sizes are not trusted below, but one already too big needs no reading.
    if sum(m.file_size for m in members) > limits.max_bytes:
        raise bomb(limits.max_bytes)
    if any(m.file_size > limits.max_member_bytes for m in members):
        raise bomb(limits.max_member_bytes)
    # [Content_Types].xml first: a file that is not a workbook is refused before its sheets.
    return sorted(members, key=lambda m: m.filename != "[Content_Types].xml")


def _end_record(data: bytes) -> tuple[int, int]:
    """The number of entries and the size of the central directory, from the end record."""
    at = data.rfind(_END_SIGNATURE, max(0, len(data) - _END_RECORD.size - 0xFFFF))
    if at < 0 or len(data) - at < _END_RECORD.size:
        raise not_xlsx()
    fields = _END_RECORD.unpack_from(data, at)
    return fields[4], fields[5]


def _inflate(data: bytes, info: zipfile.ZipInfo, limits: XlsxLimits, *, already: int):
    """The member's bytes in chunks of at most CHUNK, stopping (XlsxRefused) the moment they
    pass the declared size, the member limit or the archive's total."""
    if info.flag_bits & _ENCRYPTED:
        raise XlsxRefused(_("Файл защищён паролем; загрузите книгу без пароля."))
    if info.compress_type not in (_STORED, _DEFLATED):
        raise not_xlsx()
    raw = _raw_member(data, info)
    inflater = zlib.decompressobj(-zlib.MAX_WBITS) if info.compress_type == _DEFLATED else None
    size, crc = 0, 0
    pending = raw
    while True:
        if inflater is None:
            chunk, pending = pending[:CHUNK], pending[CHUNK:]
        else:
            try:
                chunk = inflater.decompress(pending, CHUNK)
            except zlib.error as exc:
                raise damaged(info.filename[:100]) from exc
            pending = inflater.unconsumed_tail
        if not chunk:
            break
        size += len(chunk)
        if size > info.file_size:
            raise false_size(info.filename)
        if size > limits.max_member_bytes:
            raise bomb(limits.max_member_bytes)
        if already + size > limits.max_bytes:
            raise bomb(limits.max_bytes)
        crc = zlib.crc32(chunk, crc)
        yield chunk
    if inflater is not None and not inflater.eof:
        raise damaged(info.filename[:100])
    if size != info.file_size or crc != info.CRC:
        raise damaged(info.filename[:100])


def _raw_member(data: bytes, info: zipfile.ZipInfo) -> memoryview:
    """The member's compressed bytes, found from its local header as zipfile finds them."""
    start = info.header_offset
    header = data[start:start + _LOCAL_HEADER.size]
    if len(header) != _LOCAL_HEADER.size:
        raise damaged(info.filename[:100])
    fields = _LOCAL_HEADER.unpack(header)
    if fields[0] != _LOCAL_SIGNATURE:
        raise damaged(info.filename[:100])
    begin = start + _LOCAL_HEADER.size + fields[10] + fields[11]
    end = begin + info.compress_size
    if end > len(data):
        raise damaged(info.filename[:100])
    return memoryview(data)[begin:end]


def _is_sheet(name: str) -> bool:
    return name.startswith("xl/worksheets/") and name.endswith(".xml")


def _cell_position(ref: str) -> tuple[int, int] | None:
    """(row, column) of a reference like ``AB12`` (None when it is not one)."""
    letters = 0
    column = 0
    for char in ref:
        if "A" <= char <= "Z":
            column = column * 26 + (ord(char) - 64)
            letters += 1
        elif "a" <= char <= "z":
            column = column * 26 + (ord(char) - 96)
            letters += 1
        else:
            break
    digits = ref[letters:].lstrip("$")
    if not letters or not digits.isdigit():
        return None
    return int(digits), column


class _SheetScan:
    """Counts a sheet's rows, each row's cells and merged cells while its XML streams past."""

    def __init__(self, member: str, limits: XlsxLimits, cells_before: int) -> None:
        self.limits, self.cells_before = limits, cells_before
        self.shape = SheetShape(member)
        self.row = self.column = self.row_cells = 0
        self.parser = expat.ParserCreate()
        self.parser.StartElementHandler = self._start
        # Sheets have no document type: one with a DTD could declare entities.
        self.parser.StartDoctypeDeclHandler = self._doctype

    def feed(self, chunk: bytes) -> None:
        try:
            self.parser.Parse(chunk, False)
        except expat.ExpatError as exc:
            raise damaged(f"{self.shape.member[:100]}: {exc}") from exc

    def close(self) -> SheetShape:
        try:
            self.parser.Parse(b"", True)
        except expat.ExpatError as exc:
            raise damaged(f"{self.shape.member[:100]}: {exc}") from exc
        return self.shape

    def _doctype(self, *args: Any) -> None:
        raise damaged(f"{self.shape.member[:100]}: DOCTYPE")

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        local = name.rpartition(":")[2]
        if local == "c":
            self._cell(attrs.get("r", ""))
        elif local == "row":
            number = attrs.get("r", "")
            self.row = int(number) if number.isdigit() else self.row + 1
            self.column = self.row_cells = 0
            self._extent(self.row, 0)
        elif local == "dimension":
            self._declared(attrs.get("ref", ""))
        elif local == "mergeCell":
            self._merged(attrs.get("ref", ""))

    def _cell(self, ref: str) -> None:
        position = _cell_position(ref) if ref else None
        row, column = position if position else (self.row, self.column + 1)
        self.column = column
        self.shape.cells += 1
        self.row_cells += 1
        if self.cells_before + self.shape.cells > self.limits.max_cells:
            raise XlsxRefused(_("В книге больше %(n)s заполненных ячеек; это слишком много для "
                                "загрузки.") % {"n": self.limits.max_cells})
        # A row of repeated references would still be a million cells for openpyxl to build.
        self._extent(row, max(column, self.row_cells))

    def _extent(self, row: int, column: int) -> None:
        shape, limits = self.shape, self.limits
        shape.rows, shape.columns = max(shape.rows, row), max(shape.columns, column)
        if row > limits.max_rows:
            raise XlsxRefused(_("В листе больше %(max)s строк (есть строка %(n)s); разбейте "
                                "данные на несколько файлов.") % {"max": limits.max_rows, "n": row})
        if column > limits.max_columns:
            raise XlsxRefused(_("В листе больше %(max)s столбцов (есть столбец № %(n)s).")
                              % {"max": limits.max_columns, "n": column})

    def _declared(self, ref: str) -> None:
        last = _cell_position(ref.rpartition(":")[2]) if ref else None
        if last is None:
            return
        rows, columns = last
        if rows > self.limits.max_rows:
            raise XlsxRefused(_("В листе объявлено %(n)s строк; допускается не более %(max)s.")
                              % {"n": rows, "max": self.limits.max_rows})
        if columns > self.limits.max_columns:
            raise XlsxRefused(_("В листе объявлено %(n)s столбцов; допускается не более "
                                "%(max)s.") % {"n": columns, "max": self.limits.max_columns})

    def _merged(self, ref: str) -> None:
        first, _sep, last = ref.partition(":")
        start, end = _cell_position(first), _cell_position(last or first)
        if start is None or end is None:
            return
        area = (abs(end[0] - start[0]) + 1) * (abs(end[1] - start[1]) + 1)
        self.shape.merged_cells += area
        if self.shape.merged_cells > self.limits.max_merged_cells:
            raise too_much_merged(self.limits)
