"""The data-only protocol: what crosses, what is refused, and that sizes are capped before reading."""
import socket
import struct

import numpy as np
import pytest
import torch
from torch import nn

from autograder.protocol import codec
from autograder.sandbox.child import Servant
from autograder.protocol.codec import Foreign, ModuleInfo
from autograder.grading.submission import InProcess, Submission, SubmissionError
from autograder.protocol.wire import Closed, Timeout, WireError, pack, recv_frame, send_frame, unpack


def roundtrip(value, resolve=None):
    payload, blobs = codec.encode(value)
    header, body = unpack(pack(payload, blobs)[4:])
    return codec.decode(header, body, resolve)


def test_tensor_roundtrip_keeps_values_dtype_shape_and_flags():
    t = torch.randn(3, 4).t()  # non-contiguous
    back = roundtrip(t)
    assert back.dtype == torch.float32 and back.shape == (4, 3) and torch.equal(back, t)
    assert codec.info(back).contiguous is False and codec.info(back).cls == "Tensor"
    i = roundtrip(torch.tensor([1, 2], dtype=torch.int64))
    assert i.dtype == torch.int64


def test_grad_and_leaf_flags_cross():
    w = torch.ones(2, requires_grad=True)
    (w * 3).sum().backward()
    back = roundtrip(w)
    assert codec.info(back).requires_grad and codec.info(back).is_leaf
    assert torch.equal(codec.info(back).grad, torch.full((2,), 3.0))
    loss = (w * 2).sum()
    assert codec.info(roundtrip(loss)).grad_fn == "SumBackward0"


class Sneaky(torch.Tensor):
    pass


@pytest.mark.parametrize("value, kind", [
    (torch.zeros(2).as_subclass(Sneaky), "Sneaky"),
    (np.float64(1.5), "numpy.float64"),
    (object(), "builtins.object"),
    ({1: 2}, "builtins.dict"),  # non-string keys are not data here
])
def test_anything_but_plain_data_comes_back_as_foreign(value, kind):
    back = roundtrip(value)
    assert isinstance(back, Foreign) and kind in back.cls


def test_named_tuple_keeps_its_type_name():
    back = roundtrip(torch.max(torch.randn(2, 3), dim=1))
    assert back.cls == "torch.return_types.max" and len(back) == 2


def test_modules_are_rebuilt_inside_from_architecture_and_weights():
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Sequential(nn.Linear(4, 2, bias=False)))
    servant = Servant()
    built = roundtrip(net, resolve=servant.resolve)
    assert isinstance(built[2][0], nn.Linear) and built[2][0].bias is None
    x = torch.randn(5, 3)
    assert torch.equal(built(x), net(x))


def test_modules_come_back_described_with_a_handle():
    sub = Submission.in_process({"make": lambda: nn.Sequential(nn.Linear(2, 3), nn.ReLU())})
    info = sub.call("make")
    assert isinstance(info, ModuleInfo) and info.class_name == "Sequential"
    assert list(info.state) == ["0.weight", "0.bias"] and info.modules_of("ReLU") == ["1"]
    assert sub.call(info.handle, torch.randn(4, 2)).shape == (4, 3)


def test_call_failures_become_one_sentence_for_the_student():
    namespace = {}
    source = "def f(x):\n    raise NotImplementedError()\ndef g(x):\n    return 1 / 0\ndef h(x):\n    raise SystemExit(3)"
    exec(compile(source, "<cell 2>", "exec"), namespace)
    sub = Submission.in_process(namespace)
    with pytest.raises(SubmissionError, match="not written yet"):
        sub.call("f", 1)
    with pytest.raises(SubmissionError, match=r"raised ZeroDivisionError: division by zero \(in g, cell \[2\], line 4\)"):
        sub.call("g", 1)
    with pytest.raises(SubmissionError, match="raised SystemExit"):
        sub.call("h", 1)
    with pytest.raises(SubmissionError, match="is not defined"):
        sub.call("missing", 1)


def test_frames_over_the_cap_are_refused_before_reading():
    a, b = socket.socketpair()
    with a, b:
        a.sendall(struct.pack(">I", 1 << 30))
        with pytest.raises(WireError, match="exceeds the cap"):
            recv_frame(b, timeout=1)


def test_truncated_and_garbage_frames_fail_cleanly():
    a, b = socket.socketpair()
    with b:
        with a:
            a.sendall(struct.pack(">I", 100) + b"{")
        with pytest.raises(Closed):
            recv_frame(b, timeout=1)
    with pytest.raises(WireError):
        unpack(struct.pack(">I", 3) + b"abc")
    with pytest.raises(WireError):
        unpack(struct.pack(">I", 2) + b"[]")


def test_a_silent_peer_times_out():
    a, b = socket.socketpair()
    with a, b:
        with pytest.raises(Timeout):
            recv_frame(b, timeout=0.05)


def test_frames_roundtrip_over_a_socket():
    a, b = socket.socketpair()
    with a, b:
        send_frame(a, {"op": "x"}, [b"abc", b"de"])
        header, blobs = recv_frame(b, timeout=1)
        assert header == {"op": "x"} and bytes(blobs) == b"abcde"


def test_decoder_rejects_lying_sizes():
    payload, blobs = codec.encode(torch.zeros(4))
    payload["value"]["shape"] = [400]
    with pytest.raises(WireError, match="do not match"):
        codec.decode(payload, memoryview(b"".join(blobs)))
    payload["sizes"] = [1]
    with pytest.raises(WireError):
        codec.decode(payload, memoryview(b"".join(blobs)))


def test_in_process_transport_sends_real_bytes():
    transport = InProcess({"f": lambda t: t * 2})
    sub = Submission(lambda: transport, cells=[])
    assert torch.equal(sub.call("f", torch.ones(2)), torch.full((2,), 2.0))
