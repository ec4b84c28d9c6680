"""File contents built in tests: real minimal PDFs, and hostile files for the upload checks."""

from __future__ import annotations

import csv
import io
import random
import struct
import zipfile
import zlib
from pathlib import Path

from pypdf import PdfWriter
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    StreamObject,
    TextStringObject,
)


def minimal_pdf(*, pad_to: int = 0, javascript: str = "") -> bytes:
    """A valid one-page PDF; `pad_to` grows it to about that size with a scanned image
    (an image stream of incompressible bytes, as a JPEG scan would be)."""
    writer = PdfWriter()
    page = writer.add_blank_page(width=595, height=842)
    if pad_to:
        image = StreamObject()
        image.set_data(random.Random(pad_to).randbytes(pad_to))
        image.update(
            {
                NameObject("/Type"): NameObject("/XObject"),
                NameObject("/Subtype"): NameObject("/Image"),
                NameObject("/Width"): NumberObject(1240),
                NameObject("/Height"): NumberObject(1754),
                NameObject("/ColorSpace"): NameObject("/DeviceGray"),
                NameObject("/BitsPerComponent"): NumberObject(8),
                NameObject("/Filter"): NameObject("/DCTDecode"),
            }
        )
        page[NameObject("/Resources")] = DictionaryObject(
            {
                NameObject("/XObject"): DictionaryObject(
                    {NameObject("/Im0"): writer._add_object(image)}
                )
            }
        )
    if javascript:  # a document-level script, in the catalog's /Names tree
        action = writer._add_object(
            DictionaryObject(
                {
                    NameObject("/S"): NameObject("/JavaScript"),
                    NameObject("/JS"): TextStringObject(javascript),
                }
            )
        )
        tree = DictionaryObject(
            {NameObject("/Names"): ArrayObject([TextStringObject("init"), action])}
        )
        writer._root_object[NameObject("/Names")] = DictionaryObject(
            {NameObject("/JavaScript"): writer._add_object(tree)}
        )
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def pdf_with_open_action_js() -> bytes:
    """A PDF whose catalog runs a script on opening, with the names hex-escaped
    (/S /J#61vaScript, /J#53) so that a byte search for "JavaScript" or "/JS" misses it."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    action = DictionaryObject(
        {
            NameObject("/S"): NameObject("/JavaScript"),
            NameObject("/JS"): TextStringObject("app.alert('x')"),
        }
    )
    writer._root_object[NameObject("/OpenAction")] = writer._add_object(action)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue().replace(b"/JavaScript", b"/J#61vaScript").replace(b"/JS ", b"/J#53 ")


def pdf_html_polyglot() -> bytes:
    """Opens as a PDF, renders as a web page: HTML hidden in a PDF comment."""
    pdf = minimal_pdf()
    head, rest = pdf.split(b"\n", 1)
    return head + b"\n%<html><body><script>alert(document.cookie)</script></body></html>\n" + rest


# Every entry carries this date: a zip written with today's clock differs from minute to
# minute, and two pytest-xdist workers collecting it would disagree on the test names.
ZIP_DATE = (2020, 1, 1, 0, 0, 0)


def zip_of(entries: dict[str, bytes | str], *, compression: int = zipfile.ZIP_STORED) -> bytes:
    """A zip archive of `entries`, byte-for-byte the same on every run."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, content in entries.items():
            archive.writestr(
                zipfile.ZipInfo(name, date_time=ZIP_DATE), content, compress_type=compression
            )
    return buffer.getvalue()


def office_zip(
    folder: str,
    *,
    macro: bool = False,
    extra: dict[str, bytes] | None = None,
    compression: int = zipfile.ZIP_DEFLATED,
) -> bytes:
    entries: dict[str, bytes | str] = {
        "[Content_Types].xml": "<Types/>",
        f"{folder}/document.xml": "<doc/>",
    }
    if macro:
        entries[f"{folder}/vbaProject.bin"] = b"\x00"
    entries.update(extra or {})
    return zip_of(entries, compression=compression)


def _deflate_zeros(size: int) -> bytes:
    """Raw DEFLATE of `size` zero bytes, made in 1 MB steps (never holding `size` bytes)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = bytes(1024 * 1024)
    out = []
    for _ in range(size // len(block)):
        out.append(compressor.compress(block))
    out.append(compressor.compress(bytes(size % len(block))))
    out.append(compressor.flush())
    return b"".join(out)


def docx_zip_bomb(*, member_size: int = 1 << 30, declared_size: int | None = None) -> bytes:
    """A .docx whose `word/media/bomb.bin` inflates to `member_size` (1 GiB: about 1 MB
    on the wire). With `declared_size` the headers lie about the inflated size."""
    base = office_zip("word")
    data = _deflate_zeros(member_size)
    crc = 0  # zlib.crc32 of a GiB of zeros would take seconds; the checks never read it
    declared = member_size if declared_size is None else declared_size
    name = b"word/media/bomb.bin"
    # Rebuild the archive: the genuine members, then the bomb, then a central directory.
    src = zipfile.ZipFile(io.BytesIO(base))
    out = io.BytesIO()
    entries = []
    for info in src.infolist():
        raw = base[info.header_offset :]
        name_len, extra_len = struct.unpack("<HH", raw[26:30])
        local = raw[: 30 + name_len + extra_len + info.compress_size]
        entries.append((out.tell(), info))
        out.write(local)
    offset = out.tell()
    out.write(
        struct.pack(
            "<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(data), declared, len(name), 0
        )
        + name
    )
    out.write(data)
    central = io.BytesIO()
    for entry_offset, info in entries:
        central.write(
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                20,
                20,
                0,
                info.compress_type,
                0,
                0,
                info.CRC,
                info.compress_size,
                info.file_size,
                len(info.filename.encode()),
                0,
                0,
                0,
                0,
                0,
                entry_offset,
            )
            + info.filename.encode()
        )
    central.write(
        struct.pack(
            "<IHHHHHHIIIHHHHHII",
            0x02014B50,
            20,
            20,
            0,
            8,
            0,
            0,
            crc,
            len(data),
            declared,
            len(name),
            0,
            0,
            0,
            0,
            0,
            offset,
        )
        + name
    )
    cd = central.getvalue()
    cd_offset = out.tell()
    out.write(cd)
    count = len(entries) + 1
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, len(cd), cd_offset, 0))
    return out.getvalue()


def pdf_with_huge_string(size: int = 10 * 1024 * 1024) -> bytes:
    """A valid PDF built to be expensive to parse: one string object of `size` bytes
    (pypdf reads strings byte by byte: about 230 MB and 3 s for 10 MB)."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Subject": "0" * size})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def write_csv(path: Path, rows: list[dict], columns) -> Path:
    """A CSV file with `columns` as header; a column a row does not name stays empty."""
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in columns})
    return path
