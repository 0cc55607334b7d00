"""A file a submission wrote, checked and bounded before the trusted side's ``torch.load(weights_only=True)``.

``weights_only`` keeps a file from running code, not from costing memory, and the file is the student's: a small
one can make torch.load build gigabytes on the grader. Measured with torch 2.13 (``tests/test_torchfile.py``):

- a zip record compressed with deflate (torch.save never compresses, torch.load inflates): 2 MB of file, 2 GiB
  of zeros;
- one large record that many entries of the zip's directory point at: torch reads it once per entry;
- a pickle that calls ``bytearray(2**31 - 1)`` (weights_only allows bytearray): a few bytes, 2 GiB of zeros;
- a pickle of lists that share references: a few KiB that a walk copying each container it meets (any walk
  over the result) turns into width ** depth objects.

The exercises' files hold the state_dict of a network of at most a few hundred parameters (a few KiB), so the
bounds below are generous and still keep what is loaded to a few MiB. :func:`load` checks, in this order: the
file's size; for torch.save's zip format, every record stored uncompressed and all of them together, each pickle
and the number of records bounded, then the archive *rebuilt from the records Python's zipfile read*, so that
torch's own zip reader never sees the student's directory (which could say one thing to one reader and another
to the other); for the legacy format, its pickles; in every pickle, only the classes and functions that tensors
and containers need (no bytearray); and, once loaded, the number of values and the bytes of the tensors.
A refusal is :class:`UnsafeFile`, whose message says what is wrong with the file, for the student.
"""
from __future__ import annotations

import io
import pickletools
import zipfile
from dataclasses import dataclass
from typing import Any, BinaryIO

import torch

from autograder.i18n import _

MiB = 1 << 20
MAX_FILE_BYTES = 4 * MiB  # the file itself
MAX_DATA_BYTES = 4 * MiB  # all records of a zip together, as torch.load would read them
MAX_PICKLE_BYTES = 256 << 10  # each pickle: unpickled, its objects take at most some 250 times its size
MAX_RECORDS = 1_000  # a state_dict file has one record per tensor, and five more
MAX_VALUES = 10_000  # what was loaded, counted as a tree: containers, tensors, numbers and strings
MAX_TENSOR_BYTES = 4 * MiB  # all tensors loaded, each at its full size (a view of a shared storage counts in full)

ZIP_MAGIC = b"PK\x03\x04"  # how torch.load tells its zip format from the legacy one (torch.serialization._is_zipfile)
LEGACY_PICKLES = 5  # magic number, protocol, system info, the object, its storages' keys; then raw storage bytes

# Every class or function a pickle may name: what a file of tensors in dicts, lists and tuples needs, and no more
# (weights_only also allows bytearray, sets, sparse, quantized and meta tensors, which no state_dict needs).
ALLOWED_GLOBALS = frozenset({
    "collections OrderedDict",
    "torch._utils _rebuild_tensor_v2",
    "torch._utils _rebuild_parameter",
    *(f"torch {kind}Storage" for kind in ("Double", "Float", "Half", "BFloat16", "Long", "Int", "Short", "Char",
                                          "Byte", "Bool", "ComplexDouble", "ComplexFloat")),
})


class UnsafeFile(ValueError):
    """A file torch.load must not read; the message says why, as a clause about the file ("it is compressed").
    ``names_a_class``: it was refused for a class its pickle names (a whole object saved, not a state_dict)."""

    def __init__(self, why: str, names_a_class: bool = False):
        super().__init__(why)
        self.names_a_class = names_a_class


def load(data: bytes) -> Any:
    """``data`` (a file's bytes) checked, loaded with ``torch.load(weights_only=True)`` and made plain: Parameters
    as tensors, containers as dicts, lists and tuples. Raises :class:`UnsafeFile` for a file refused, and what
    torch.load raises for a file it cannot read."""
    checked = _checked_bytes(data)
    return plain(torch.load(io.BytesIO(checked), weights_only=True, map_location="cpu"))


def _checked_bytes(data: bytes) -> bytes:
    """What torch.load may read of ``data``: a zip archive rebuilt from its checked records, or a legacy file whose
    pickles were checked (its storages are then read from the file itself, so they are bounded by its size)."""
    if len(data) > MAX_FILE_BYTES:
        raise UnsafeFile(_("it is larger than {size} MiB").format(size=MAX_FILE_BYTES // MiB))
    if data[:4] == ZIP_MAGIC:
        return _rebuilt_zip(_zip_records(data))
    _check_legacy_pickles(data)
    return data


# -- torch.save's zip format ----------------------------------------------------------------------------------------
def _zip_records(data: bytes) -> list[tuple[str, bytes]]:
    """The records of the zip archive ``data`` (name, bytes), once each is known to be stored uncompressed and all
    of them together to be small: their sizes are checked as the directory declares them, *before* any is read."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as error:
        raise UnsafeFile(_("it is not a readable zip archive, as torch.save writes ({error})").format(error=error)) from None
    if len(entries) > MAX_RECORDS:
        raise UnsafeFile(_("it holds more than {count} records").format(count=MAX_RECORDS))
    if any(e.compress_type != zipfile.ZIP_STORED for e in entries):
        raise UnsafeFile(_("it is compressed (torch.save never compresses what it writes)"))
    if any(e.compress_size != e.file_size for e in entries):  # stored, yet two sizes: one of them is a lie
        raise UnsafeFile(_("its zip directory gives a record two different sizes"))
    if sum(e.file_size for e in entries) > MAX_DATA_BYTES:
        raise UnsafeFile(_("its records hold more than {size} MiB in all").format(size=MAX_DATA_BYTES // MiB))
    names = [e.filename for e in entries]
    if len(set(names)) != len(names):
        raise UnsafeFile(_("it holds two records of the same name"))
    try:
        records = [(e.filename, archive.read(e)) for e in entries]
    except (zipfile.BadZipFile, ValueError, EOFError, OSError) as error:  # a bad CRC, a name that differs, ...
        raise UnsafeFile(_("it is not a readable zip archive, as torch.save writes ({error})").format(error=error)) from None
    for name, content in records:
        if name.endswith(".pkl"):  # data.pkl (the object), and constants.pkl of a TorchScript archive
            _check_pickle(io.BytesIO(content), len(content))
    return records


def _rebuilt_zip(records: list[tuple[str, bytes]]) -> bytes:
    """A zip archive of ``records``, stored uncompressed, written here: what torch's zip reader is given."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for name, content in records:
            archive.writestr(zipfile.ZipInfo(name), content)
    return out.getvalue()


# -- pickles --------------------------------------------------------------------------------------------------------
def _check_legacy_pickles(data: bytes) -> None:
    """The pickles at the head of a file in torch's legacy format, each checked; what follows them is raw storage
    bytes, which torch reads into storages no larger than the file provides."""
    stream = io.BytesIO(data)
    for _pickle in range(LEGACY_PICKLES):
        _check_pickle(stream, len(data) - stream.tell())


def _check_pickle(stream: BinaryIO, available: int) -> None:
    """The pickle that starts at ``stream``'s position (and ends, at its STOP, within MAX_PICKLE_BYTES), refused
    when it names a class or function outside ALLOWED_GLOBALS. Read opcode by opcode, never unpickled."""
    start = stream.tell()
    window = io.BytesIO(stream.read(min(available, MAX_PICKLE_BYTES)))  # reading past the bound is never tried
    try:
        for opcode, arg, _position in pickletools.genops(window):
            if opcode.name in ("GLOBAL", "INST") and arg not in ALLOWED_GLOBALS:
                raise UnsafeFile(_("its pickle names {name}, which is neither a tensor nor a container").format(
                    name=str(arg).replace(" ", ".")[:100]), names_a_class=True)
            if opcode.name == "STACK_GLOBAL":  # names taken from the stack, which torch's weights_only reader refuses
                raise UnsafeFile(_("its pickle names a class in a way torch.save never writes"), names_a_class=True)
    except ValueError as error:  # cut short, or an unknown opcode
        if available > MAX_PICKLE_BYTES:
            raise UnsafeFile(_("its pickle is larger than {size} KiB or not one torch.save writes ({error})").format(
                size=MAX_PICKLE_BYTES >> 10, error=error)) from None
        raise UnsafeFile(_("it is not a pickle torch.save writes ({error})").format(error=error)) from None
    stream.seek(start + window.tell())


# -- what was loaded ------------------------------------------------------------------------------------------------
def plain(value: Any) -> Any:
    """What torch.load gave, with Parameters as plain tensors and containers as dicts, lists and tuples (a list for
    any other sequence). Refused when it holds more than MAX_VALUES values counted as a tree (a reference met twice
    counts twice, as for any walk over the result) or tensors of more than MAX_TENSOR_BYTES in all."""
    return _PlainCopy().copy(value, 0)


@dataclass
class _PlainCopy:
    values: int = 0
    tensor_bytes: int = 0

    def copy(self, value: Any, depth: int) -> Any:
        self._count(value)
        if depth > 16:
            return None
        if isinstance(value, torch.Tensor):
            return value.detach() if type(value) is not torch.Tensor else value
        if isinstance(value, dict):
            return {k: self.copy(v, depth + 1) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            items = [self.copy(v, depth + 1) for v in value]
            return type(value)(items) if type(value) in (list, tuple) else items
        return value

    def _count(self, value: Any) -> None:
        self.values += 1
        if self.values > MAX_VALUES:
            raise UnsafeFile(_("it holds more than {count} values (tensors, containers and numbers)").format(count=MAX_VALUES))
        if isinstance(value, torch.Tensor):
            self.tensor_bytes += value.numel() * value.element_size()
            if self.tensor_bytes > MAX_TENSOR_BYTES:
                raise UnsafeFile(_("its tensors hold more than {size} MiB").format(size=MAX_TENSOR_BYTES // MiB))
