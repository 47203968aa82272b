"""Text of a library file for search, read within limits: PDF with ``pypdf``; Word,
Excel and PowerPoint files (DOCX, XLSX, PPTX) by reading their OOXML zip with the standard
library (``zipfile`` and ``xml.etree``); plain text as it is.

Every extraction is bounded: at most :data:`MAX_PAGES` PDF pages, :data:`MAX_CHARS`
characters of text, :data:`MAX_MEMBER_BYTES` uncompressed bytes per zip member and
:data:`MAX_TOTAL_BYTES` in all, and a compression ratio of at most :data:`MAX_RATIO` (a
zip bomb is refused before it is inflated). Time is bounded by the caller, who runs
``python -m domain.extraction CONTENT_TYPE`` (:func:`main`) as a child process and kills it
at a deadline (actions/library_text.py); the child's memory is bounded by
:data:`MAX_MEMORY_BYTES`. An encrypted, malformed, huge or hostile file raises
:class:`NotExtractable` with the reason.
"""

from __future__ import annotations

import io
import json
import sys
import zipfile
import zlib
from xml.etree import ElementTree as ET

from pypdf import PdfReader
from pypdf.errors import PyPdfError

MAX_PAGES = 500
MAX_CHARS = 500_000
MAX_MEMBER_BYTES = 20 * 1024 * 1024
MAX_TOTAL_BYTES = 50 * 1024 * 1024
MAX_RATIO = 100
MAX_MEMBERS = 2000
MAX_MEMORY_BYTES = 1024 * 1024 * 1024

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"

# which members of each OOXML package hold its text
_OOXML_PARTS = {
    DOCX: ("word/document.xml", "word/header", "word/footer", "word/footnotes.xml"),
    XLSX: ("xl/sharedStrings.xml", "xl/worksheets/sheet"),
    PPTX: ("ppt/slides/slide", "ppt/notesSlides/notesSlide"),
}


class NotExtractable(Exception):
    """The file's text cannot be read; ``str(error)`` says why, for people."""


def extract_text(data: bytes, content_type: str) -> str:
    """The text of ``data`` (of the sniffed ``content_type``), at most MAX_CHARS
    characters, words separated by single spaces. Raises NotExtractable."""
    if content_type == PDF:
        text = _pdf_text(data)
    elif content_type in _OOXML_PARTS or content_type == "application/zip":
        text = _ooxml_text(data)
    elif content_type.startswith("text/"):
        text = data[: MAX_CHARS * 4].decode("utf-8", "replace")
    else:
        raise NotExtractable(f"Text is not read from files of type {content_type}.")
    return " ".join(text.split())[:MAX_CHARS]


def _pdf_text(data: bytes) -> str:
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise NotExtractable("The PDF is encrypted.")
        pages = len(reader.pages)
        if pages > MAX_PAGES:
            raise NotExtractable(f"The PDF has {pages} pages, more than {MAX_PAGES}.")
        parts: list[str] = []
        size = 0
        for page in reader.pages:
            text = page.extract_text() or ""
            parts.append(text)
            size += len(text)
            if size >= MAX_CHARS:
                break
        return "\n".join(parts)
    except NotExtractable:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as error:
        raise NotExtractable("The PDF is malformed.") from error


_ZIP_ERRORS = (
    zipfile.BadZipFile,  # a bad header or CRC
    zlib.error,  # a corrupt deflate stream
    NotImplementedError,  # an unknown compression method or patched data
    RuntimeError,  # an encrypted member
    EOFError,  # a truncated member
    ValueError,  # a bad offset or name
    OSError,
)
"""What reading a damaged, encrypted or hostile zip package raises."""


def _ooxml_text(data: bytes) -> str:
    try:
        return _ooxml_package_text(data)
    except _ZIP_ERRORS as error:
        raise NotExtractable("The file is not a readable zip package.") from error


def _ooxml_package_text(data: bytes) -> str:
    archive = zipfile.ZipFile(io.BytesIO(data))
    with archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            raise NotExtractable(f"The package has more than {MAX_MEMBERS} parts.")
        total = sum(m.file_size for m in members)
        if total > MAX_TOTAL_BYTES:
            raise NotExtractable("The package is too large once unpacked.")
        for member in members:
            if member.flag_bits & 0x1:
                raise NotExtractable("The package is encrypted.")
            if member.file_size > MAX_MEMBER_BYTES:
                raise NotExtractable("A part of the package is too large once unpacked.")
            if member.file_size > MAX_RATIO * max(member.compress_size, 1):
                raise NotExtractable("The package is compressed suspiciously well (a zip bomb).")
        names = {m.filename for m in members}
        kind = next(
            (k for k, parts in _OOXML_PARTS.items() if any(n.startswith(parts[0]) for n in names)),
            None,
        )
        if kind is None:
            raise NotExtractable("The package is no Word, Excel or PowerPoint file.")
        parts = _OOXML_PARTS[kind]
        texts: list[str] = []
        size = 0
        for member in sorted(members, key=lambda m: m.filename):
            if not member.filename.endswith(".xml") or not member.filename.startswith(parts):
                continue
            text = _xml_text(_read_bounded(archive, member))
            texts.append(text)
            size += len(text)
            if size >= MAX_CHARS:
                break
        return " ".join(texts)


def _read_bounded(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> bytes:
    """The member's bytes, never more than it declares (a lying header is refused)."""
    with archive.open(member) as stream:
        data = stream.read(member.file_size + 1)
    if len(data) > member.file_size:
        raise NotExtractable("A part of the package is larger than it says.")
    return data


def _xml_text(data: bytes) -> str:
    """The text nodes of an OOXML part. Entity declarations (billion laughs) are refused."""
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise NotExtractable("The package declares XML entities.")
    try:
        root = ET.fromstring(data)  # noqa: S314 (no DTD, no entities: checked above)
    except ET.ParseError as error:
        raise NotExtractable("A part of the package is malformed XML.") from error
    return " ".join(t for t in root.itertext() if t.strip())


def snippet(text: str, term: str, width: int = 60) -> str | None:
    """About ``width`` characters of ``text`` either side of the first match of ``term``
    (case-insensitive), with ``…`` where it was cut; None without a match."""
    at = text.casefold().find(term.casefold())
    if not term or at < 0:
        return None
    start, end = max(0, at - width), min(len(text), at + len(term) + width)
    return ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")


def main() -> None:
    """``python -m domain.extraction CONTENT_TYPE``: read the file from standard input and
    write one JSON object to standard output, ``{"text": ...}`` or ``{"error": reason}``
    (any failure of a reader is an error, never a crash)."""
    try:
        import resource  # POSIX only

        resource.setrlimit(resource.RLIMIT_AS, (MAX_MEMORY_BYTES, MAX_MEMORY_BYTES))
    except (ImportError, ValueError, OSError):
        pass
    try:
        answer = {"text": extract_text(sys.stdin.buffer.read(), sys.argv[1])}
    except NotExtractable as refused:
        answer = {"error": str(refused)}
    except Exception:  # a reader's own failure on a hostile file
        answer = {"error": "The file could not be read."}
    sys.stdout.write(json.dumps(answer))


if __name__ == "__main__":
    main()
