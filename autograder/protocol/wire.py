"""The data-only protocol between the trusted grader and a submission's sandbox.

A frame is a 4-byte big-endian length, a JSON header, and raw byte blobs the header points into:

    [u32 total][u32 header length][header JSON][blob 0][blob 1]...

Only data crosses: numbers, strings, lists, dicts, tensors as (dtype, shape, raw bytes), module descriptions.
Nothing is ever unpickled, and every size is capped *before* it is read, so a hostile child cannot make the
trusted side allocate or parse more than :data:`MAX_FRAME` bytes.
"""
from __future__ import annotations

import json
import select
import socket
import struct
import time
from typing import Any

MAX_FRAME = 64 << 20  # the largest frame a sandbox may send back
MAX_HEADER = 4 << 20
MAX_DEPTH = 16


class WireError(Exception):
    """The other side broke the protocol: a frame too large, malformed, or missing."""


class Closed(WireError):
    """The other side closed the connection (it exited or was killed)."""


class Timeout(WireError):
    """No complete frame arrived in time."""


def pack(header: dict[str, Any], blobs: list[bytes] = ()) -> bytes:
    head = json.dumps(header, separators=(",", ":"), allow_nan=True).encode()
    body = struct.pack(">I", len(head)) + head + b"".join(blobs)
    return struct.pack(">I", len(body)) + body


def unpack(body: bytes) -> tuple[dict[str, Any], memoryview]:
    if len(body) < 4:
        raise WireError("frame too short")
    (n_head,) = struct.unpack(">I", body[:4])
    if n_head > MAX_HEADER or 4 + n_head > len(body):
        raise WireError("frame header too large or truncated")
    try:
        header = json.loads(body[4:4 + n_head])
    except (ValueError, UnicodeDecodeError) as error:
        raise WireError(f"frame header is not JSON: {error}") from None
    except RecursionError:  # JSON nested thousands deep: a sender trying to crash the reader
        raise WireError("frame header is nested too deeply") from None
    if not isinstance(header, dict):
        raise WireError("frame header is not a JSON object")
    return header, memoryview(body)[4 + n_head:]


def send_frame(sock: socket.socket, header: dict[str, Any], blobs: list[bytes] = ()) -> None:
    sock.sendall(pack(header, blobs))


def _recv_exactly(sock: socket.socket, n: int, deadline: float | None) -> bytes:
    chunks, got = [], 0
    while got < n:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([sock], [], [], left)[0]:
                raise Timeout("no answer in time")
        chunk = sock.recv(min(n - got, 1 << 20))
        if not chunk:
            raise Closed("connection closed")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def recv_frame(
    sock: socket.socket, timeout: float | None = None, max_bytes: int = MAX_FRAME
) -> tuple[dict[str, Any], memoryview]:
    deadline = None if timeout is None else time.monotonic() + timeout
    (n,) = struct.unpack(">I", _recv_exactly(sock, 4, deadline))
    if n > max_bytes:
        raise WireError(f"frame of {n} bytes exceeds the cap of {max_bytes}")
    return unpack(_recv_exactly(sock, n, deadline))
