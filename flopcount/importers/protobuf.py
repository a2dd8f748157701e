"""Protocol-buffer wire format, read just far enough to skip an ONNX file's weight bytes.

Counting needs the graph and the dimensions of its initializers, not their values. An
ONNX file is one ModelProto whose weights sit in the ``raw_data`` of the graph's
initializer tensors; ``skim`` copies every field of the model except those bytes, so a
100 MB model is parsed as a few kilobytes and its weights are never read (the file is
memory-mapped, so the skipped pages are not even loaded). Where each skipped payload
lies is recorded, so the weights can be read later, one tensor at a time, by ``run``.
"""

from __future__ import annotations

from dataclasses import dataclass

# field numbers from onnx.proto (stable across every ONNX release)
MODEL_GRAPH = 7
GRAPH_INITIALIZER = 5
TENSOR_DIMS, TENSOR_NAME, TENSOR_RAW_DATA = 1, 8, 9
VARINT, FIXED64, LENGTH, FIXED32 = 0, 1, 2, 5
KEEP_BYTES = 4096  # raw data up to this size stays in place: shape constants are read from it


class WireError(ValueError):
    """The bytes are not a well-formed protocol buffer (position in the message)."""

    def __init__(self, message: str, at: int):
        super().__init__(message)
        self.at = at


def varint(buf, at: int, end: int) -> tuple[int, int]:
    """Decode a base-128 varint at ``at``; returns (value, position after it)."""
    value = shift = 0
    while True:
        if at >= end:
            raise WireError("the data ends inside a number", at)
        byte = buf[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, at
        shift += 7
        if shift > 63:
            raise WireError("a number is longer than ten bytes", at)


def fields(buf, start: int, end: int):
    """Yield (field number, wire type, payload start, payload end, field start) of one message."""
    at = start
    while at < end:
        field_start = at
        key, at = varint(buf, at, end)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise WireError("field number 0", field_start)
        if wire == VARINT:
            _, stop = varint(buf, at, end)
        elif wire == FIXED64:
            stop = at + 8
        elif wire == FIXED32:
            stop = at + 4
        elif wire == LENGTH:
            size, at = varint(buf, at, end)
            stop = at + size
        else:
            raise WireError(f"unknown wire type {wire}", field_start)
        if stop > end:
            raise WireError(f"field {number} runs past the end of the data", field_start)
        yield number, wire, at, stop, field_start
        at = stop


def _key(number: int, wire: int) -> bytes:
    return _encode(number << 3 | wire)


def _encode(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _length_field(number: int, payload: bytes) -> bytes:
    return _key(number, LENGTH) + _encode(len(payload)) + payload


@dataclass(frozen=True)
class Span:
    """Where a tensor's skipped raw_data lies in the file: [start, end)."""

    start: int
    end: int


def skim(buf) -> tuple[bytes, dict[str, Span]]:
    """A ModelProto without its large initializer payloads, and where each payload was.

    Raises WireError when buf is not a well-formed protocol buffer.
    """
    out = []
    spans: dict[str, Span] = {}
    end = len(buf)
    for number, wire, start, stop, field_start in fields(buf, 0, end):
        if number == MODEL_GRAPH and wire == LENGTH:
            out.append(_length_field(MODEL_GRAPH, _skim_graph(buf, start, stop, spans)))
        else:
            out.append(bytes(buf[field_start:stop]))
    return b"".join(out), spans


def _skim_graph(buf, start, stop, spans) -> bytes:
    out = []
    for number, wire, s, e, field_start in fields(buf, start, stop):
        if number == GRAPH_INITIALIZER and wire == LENGTH and e - s > KEEP_BYTES:
            out.append(_length_field(GRAPH_INITIALIZER, _skim_tensor(buf, s, e, spans)))
        else:
            out.append(bytes(buf[field_start:e]))
    return b"".join(out)


def _skim_tensor(buf, start, stop, spans) -> bytes:
    out = []
    name = None
    raw = None
    for number, wire, s, e, field_start in fields(buf, start, stop):
        if number == TENSOR_RAW_DATA and wire == LENGTH and e - s > KEEP_BYTES:
            raw = Span(s, e)
            continue
        if number == TENSOR_NAME and wire == LENGTH:
            name = bytes(buf[s:e]).decode("utf-8", "replace")
        out.append(bytes(buf[field_start:e]))
    if raw is not None and name is not None:
        spans[name] = raw
    return b"".join(out)
