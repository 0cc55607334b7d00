"""Small files that torch.load (weights_only=True) would turn into gigabytes: the attacks autograder.grading.torchfile stops.

Standard library only, so that a red-team notebook can carry this module's source and build the same bytes inside
its sandbox (tests/test_redteam_files.py). Each bomb is a few MiB at most and builds in about a second.
"""
from __future__ import annotations

import io
import struct
import zlib

GiB = 1 << 30


# -- pickles, written opcode by opcode (protocol 2, the opcodes torch.save uses) --------------------------------------
def _text(s: str) -> bytes:
    data = s.encode()
    return b"X" + struct.pack("<I", len(data)) + data  # BINUNICODE


def _int(n: int) -> bytes:
    return b"J" + struct.pack("<i", n)  # BININT


def _global(module: str, name: str) -> bytes:
    return b"c" + f"{module}\n{name}\n".encode()


def tensors_pickle(numels: list[int]) -> bytes:
    """The data.pkl of ``torch.save({"0": t0, "1": t1, ...})`` for 1-d float32 tensors of ``numels`` elements, whose
    storages are the records ``data/0``, ``data/1``, ..."""
    out = b"\x80\x02}("
    for i, numel in enumerate(numels):
        storage = b"(" + _text("storage") + _global("torch", "FloatStorage") + _text(str(i)) + _text("cpu") \
            + _int(numel) + b"tQ"  # TUPLE, BINPERSID
        hooks = _global("collections", "OrderedDict") + b")R"  # OrderedDict()
        out += _text(str(i)) + _global("torch._utils", "_rebuild_tensor_v2") \
            + b"(" + storage + _int(0) + _int(numel) + b"\x85" + _int(1) + b"\x85" + b"\x89" + hooks + b"tR"
    return out + b"u."  # SETITEMS, STOP


def bytearray_pickle(size: int = 2 * GiB - 1) -> bytes:
    """A pickle of ``bytearray(size)``: weights_only allows bytearray, which fills ``size`` bytes with zeros."""
    return b"\x80\x02" + _global("builtins", "bytearray") + _int(size) + b"\x85R."


def shared_lists_pickle(width: int = 100, depth: int = 4) -> bytes:
    """A list of ``width`` references to one list of ``width`` references to ... (``depth`` levels): a few KiB that a
    walk copying each container it meets turns into ``width ** depth`` objects."""
    out = b"\x80\x02]q\x00(" + (b"G" + bytes(8)) * width + b"e"  # level 0: width floats, memo 0
    for level in range(1, depth):
        out += b"]q" + bytes([level]) + b"(" + (b"h" + bytes([level - 1])) * width + b"e"
    return out + b"."  # the last list is what is loaded


# -- zip archives, written byte by byte (so that they may lie) -------------------------------------------------------
def zip_archive(entries: list[tuple[str, bytes, int, int, int]], shared: dict[str, str] | None = None) -> bytes:
    """A zip archive of ``entries`` (name, bytes as stored, method: 0 stored / 8 deflated, crc, size unpacked).
    ``shared`` maps names to another entry's name: those get no data of their own, only a directory entry that
    points at the other's local header."""
    shared = shared or {}
    out, directory, offsets = io.BytesIO(), [], {}
    for name, data, method, crc, size in entries:
        raw = name.encode()
        if name not in shared:
            offsets[name] = out.tell()
            out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, crc, len(data), size,
                                  len(raw), 0) + raw + data)
        directory.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0x21, crc, len(data),
                                     size, len(raw), 0, 0, 0, 0, 0, offsets[shared.get(name, name)]) + raw)
    start, listing = out.tell(), b"".join(directory)
    out.write(listing + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(listing), start, 0))
    return out.getvalue()


def stored(name: str, data: bytes) -> tuple[str, bytes, int, int, int]:
    return name, data, 0, zlib.crc32(data), len(data)


def torch_zip(pickle: bytes, *records: tuple[str, bytes, int, int, int],
              shared: dict[str, str] | None = None) -> bytes:
    """A zip archive laid out as torch.save writes one: ``archive/data.pkl``, then the records, then the version."""
    return zip_archive([stored("archive/data.pkl", pickle), *records, stored("archive/version", b"3\n")], shared)


# -- the bombs ----------------------------------------------------------------------------------------------------
def deflated_zeros(size: int, chunk: int = 1 << 24) -> tuple[bytes, int]:
    """A raw deflate stream of ``size`` zero bytes (``size`` a multiple of ``chunk``) and their CRC-32, built in a
    blink: after a full flush the compressor starts afresh, so every further chunk compresses to the same bytes."""
    zeros, compressor = bytes(chunk), zlib.compressobj(6, zlib.DEFLATED, -15)
    first = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    again = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(size // chunk):
        crc = zlib.crc32(zeros, crc)
    return first + again * (size // chunk - 1) + compressor.flush(), crc


def deflate_bomb(size: int = 2 * GiB) -> bytes:
    """A torch zip whose one storage record is deflate-compressed: about 2 MB of file, ``size`` bytes inflated."""
    stream, crc = deflated_zeros(size)
    return torch_zip(tensors_pickle([size // 4]), ("archive/data/0", stream, 8, crc, size))


def overlapping_bomb(record: int = 2 << 20, entries: int = 900) -> bytes:
    """A torch zip with one stored record of ``record`` bytes and ``entries`` directory entries that all point at
    it, each a storage of the pickle: about ``record`` bytes of file, ``record * entries`` read."""
    data = bytes(record)
    names = [f"archive/data/{i}" for i in range(entries)]
    return torch_zip(tensors_pickle([record // 4] * entries), *(stored(n, data) for n in names),
                     shared={n: names[0] for n in names[1:]})


def legacy_file(main_pickle: bytes) -> bytes:
    """A file in torch's legacy (pre-zip) format whose object is ``main_pickle``, with no storage."""
    magic = b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19."  # torch.serialization.MAGIC_NUMBER
    protocol = b"\x80\x02M\xe9\x03."  # PROTOCOL_VERSION, 1001
    info = b"\x80\x02}(" + _text("protocol_version") + b"M\xe9\x03" + _text("little_endian") + b"\x88" \
        + _text("type_sizes") + b"}(" + _text("short") + b"K\x02" + _text("int") + b"K\x04" + _text("long") \
        + b"K\x04uu."
    return magic + protocol + info + main_pickle + b"\x80\x02]."  # the storages' keys: none


def huge_view() -> bytes:
    """A torch zip whose tensor is a stride-0 view of 2**28 elements over a 4-byte storage: 1 GiB once copied."""
    pickle = tensors_pickle([1]).replace(_int(0) + _int(1) + b"\x85" + _int(1) + b"\x85",
                                         _int(0) + _int(1 << 28) + b"\x85" + _int(0) + b"\x85")
    return torch_zip(pickle, stored("archive/data/0", bytes(4)))
