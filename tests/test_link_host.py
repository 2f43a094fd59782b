"""Host <-> node over a real pty pair and pyserial, with the firmware's NodeLink and Store
running in-process on real files (tests/link_support.py)."""

from __future__ import annotations

import hashlib
import io
import threading

import pytest
import serial
from cuefw import link, showfile
from cuefw.store import LIVE, PREV
from cuenode.errors import CuenodeError, NodeRefused
from cuenode.node import ops
from cuenode.node.transport import Transport
from link_support import PtyNode, RecordingNode, demo_blob, sized_blob


@pytest.fixture
def node(tmp_path):
    with PtyNode(tmp_path) as n:
        yield n


def test_hello_reports_identity(node):
    with ops.connect(node.port) as s:
        assert s.info.node_id == "stage-left"
        assert s.info.proto == link.PROTOCOL_VERSION
        assert s.info.window == 8 and s.info.chunk == 2048


def test_go_status_log_round_trip(node):
    with ops.connect(node.port) as s:
        assert ops.go(s) == {"cue": 0}
        assert ops.go(s) == {"cue": 1}
        ops.arm(s)
        st = ops.status(s)
        assert st["cue"] == 1 and st["armed"] is True and st["port"] == node.port
        assert st["link"]["crc"] == 0
        assert [e[1] for e in ops.log(s)] == ["GO cue 0", "GO cue 1"]
        assert ops.goto(s, "12.25") == {"cue_number": 12250}


def test_push_is_verified_committed_and_previous_kept(node, tmp_path):
    first, second = demo_blob(n_cues=10), demo_blob(n_cues=60)
    seen = []
    with ops.connect(node.port) as s:
        ops.push(s, first, "stage-left")
        result = ops.push(s, second, "stage-left", progress=lambda d, t: seen.append(d))
    assert result.switched and result.resumed_from == 0
    assert (tmp_path / LIVE).read_bytes() == second
    assert (tmp_path / PREV).read_bytes() == first
    assert seen[-1] == result.wire_bytes and seen == sorted(seen)  # progress: bytes sent
    assert showfile.verify(io.BytesIO(second), hashlib.sha256)


def test_push_keeps_several_chunks_in_flight(node):
    """Not stop-and-wait: the host sends a window of chunks before it waits for an answer."""
    blob = sized_blob("stage-left", 64 * 1024)
    chunks_sent: list[int] = []
    sent_at_first_wait: list[int] = []
    with ops.connect(node.port) as s:
        real_send, real_receive = s.transport.send, s.transport.receive

        def send(ftype, payload=b"", seq=None):
            if ftype == link.T_PUSH_CHUNK:
                chunks_sent.append(seq)
            return real_send(ftype, payload, seq)

        def receive(timeout):
            if chunks_sent and not sent_at_first_wait:
                sent_at_first_wait.append(len(chunks_sent))
            return real_receive(timeout)

        s.transport.send, s.transport.receive = send, receive
        result = ops.push(s, blob, "stage-left")
    assert sent_at_first_wait == [8]
    assert len(chunks_sent) == -(-result.wire_bytes // 2048)  # every chunk once: a clean line


def test_push_through_a_noisy_line_still_exact(tmp_path):
    blob = sized_blob("stage-left", 96 * 1024)
    with PtyNode(tmp_path, seed=7) as node:
        node.corrupt_rate = 0.15  # of the node's reads get one bit flipped
        with ops.connect(node.port) as s:
            result = ops.push(s, blob, "stage-left")
        errors = node.nodelink.deframer.errors()
    assert (tmp_path / LIVE).read_bytes() == blob
    assert errors > 0 and result.retransmitted > 0


def test_push_resumes_after_the_cable_is_pulled(tmp_path, monkeypatch):
    blob = sized_blob("stage-left", 64 * 1024)
    monkeypatch.setattr(ops, "PUSH_RETRIES", 1)
    monkeypatch.setattr(ops, "PUSH_TIMEOUT_S", 0.3)
    with PtyNode(tmp_path) as node:
        node.drop_after_chunks = 10
        with ops.connect(node.port) as s, pytest.raises(CuenodeError, match="resumes"):
            ops.push(s, blob, "stage-left")
        assert not (tmp_path / LIVE).exists()
        node.drop_after_chunks, node.silent = None, False
        with ops.connect(node.port) as s:
            result = ops.push(s, blob, "stage-left")
    assert result.resumed_from >= 10 * 2048 - 1
    assert (tmp_path / LIVE).read_bytes() == blob


def test_wrong_node_refused_naming_both_then_forced(tmp_path):
    blob = demo_blob("stage-left")
    with PtyNode(tmp_path, RecordingNode("stage-right")) as node, ops.connect(node.port) as s:
        with pytest.raises(CuenodeError) as err:
            ops.push(s, blob, "stage-left")
        msg = err.value.format_message()
        assert isinstance(err.value, NodeRefused) and err.value.status == link.E_IDENTITY
        assert "'stage-left'" in msg and "'stage-right'" in msg and "--force" in msg
        assert "\n" not in msg
        assert not (tmp_path / LIVE).exists()
        ops.push(s, blob, "stage-left", force_identity=True)
    assert (tmp_path / LIVE).read_bytes() == blob


def test_show_too_large_refused_before_sending(tmp_path):
    blob = demo_blob()
    with PtyNode(tmp_path, max_show=len(blob) - 1) as node, ops.connect(node.port) as s:
        with pytest.raises(CuenodeError, match="holds at most"):
            ops.push(s, blob, "stage-left")
        assert node.chunks_seen == 0


def test_silent_port_is_no_firmware_error(tmp_path):
    with PtyNode(tmp_path) as node:
        node.silent = True
        with pytest.raises(CuenodeError) as err:
            ops.connect(node.port)
    assert err.value.format_message() == (
        f"no cuenode firmware answered on {node.port} — check the cable; a board with "
        f"MicroPython only needs `cuenode flash --port {node.port} --name NODE_ID`"
    )


def test_port_busy(node):
    holder = serial.Serial(node.port, exclusive=True)
    try:
        with pytest.raises(CuenodeError, match="^port busy — is another program using it?"):
            ops.connect(node.port)
    finally:
        holder.close()


def test_missing_port():
    with pytest.raises(CuenodeError, match="no such port /dev/nonexistent-cuenode"):
        ops.connect("/dev/nonexistent-cuenode")


def test_wrong_protocol_version_named(node):
    """A node from a future firmware answers HELLO with protocol 99."""
    node.override = lambda f: link.response(f.ftype, f.seq, link.OK, bytes([99]) + b"{}")
    with pytest.raises(CuenodeError, match="speaks link protocol 99, this cuenode speaks 1"):
        ops.connect(node.port)


def test_retried_go_is_not_a_double_go(node):
    """Resending with the same seq (as the transport does after a lost answer) runs GO once."""
    with Transport(node.port) as t:
        seq = t.next_seq()
        for _ in range(3):
            t.send(link.T_GO, b"", seq)
            frame = t.receive(2.0)
            assert frame is not None and frame.seq == seq
    assert [c[0] for c in node.node.calls] == ["go"]


def test_loop_url_transport_round_trip():
    """serial_for_url: loop:// echoes our own frames; responses are recognised by type."""
    with Transport("loop://", timeout=0.2, retries=0) as t:
        assert t.request(link.T_STATUS) is None  # requests echo back, no response arrives
        seq = t.next_seq()
        t.write(link.response(link.T_STATUS, seq, link.OK, b"{}"))
        frame = t.receive(1.0)
        assert frame.seq == seq and frame.payload == b"\x00{}"


def test_usb_discovery_by_vid_pid_and_serial(monkeypatch):
    """USB enumeration is the hardware boundary: list_ports.comports() is given fake ports."""
    from cuenode.node import transport
    from serial.tools.list_ports_common import ListPortInfo

    def port(device, vid, pid, serial_number):
        p = ListPortInfo(device, skip_link_detection=True)
        p.vid, p.pid, p.serial_number, p.description = vid, pid, serial_number, "desc"
        return p

    ports = [
        port("/dev/ttyACM1", 0x2E8A, 0x0005, "E661A4"),
        port("/dev/ttyUSB0", 0x10C4, 0xEA60, "0001"),
        port("/dev/ttyACM0", 0x2E8A, 0x0005, "E661B7"),
        port("/dev/ttyUSB9", 0x0403, 0x6001, "FT1"),  # some other USB-serial device
        port("/dev/ttyS0", None, None, None),
    ]
    monkeypatch.setattr(transport.list_ports, "comports", lambda: ports)
    found = transport.usb_ports()
    assert [p.device for p in found] == ["/dev/ttyACM0", "/dev/ttyACM1", "/dev/ttyUSB0"]
    assert found[0].description.startswith("Raspberry Pi Pico")
    assert [p.device for p in transport.usb_ports(serial_number="E661A4")] == ["/dev/ttyACM1"]
    assert [p.device for p in transport.usb_ports(vid=0x0403)] == ["/dev/ttyUSB9"]


def test_push_travels_deflated_when_the_node_can_inflate(node, tmp_path):
    blob = sized_blob("stage-left", 64 * 1024)
    with ops.connect(node.port) as s:
        assert s.info.caps & link.CAP_DEFLATE
        result = ops.push(s, blob, "stage-left")
    assert result.wire_bytes < len(blob) * 0.8
    assert (tmp_path / LIVE).read_bytes() == blob
    assert sorted(p.name for p in tmp_path.iterdir()) == [LIVE]


def test_push_plain_to_a_node_without_inflater(tmp_path):
    blob = sized_blob("stage-left", 16 * 1024)
    with PtyNode(tmp_path, inflate=False) as node, ops.connect(node.port) as s:
        assert not s.info.caps & link.CAP_DEFLATE
        result = ops.push(s, blob, "stage-left")
    assert result.wire_bytes == len(blob)
    assert (tmp_path / LIVE).read_bytes() == blob


def test_damaged_deflate_stream_refused_and_live_show_kept(tmp_path):
    from cuefw.store import Store, StoreError, make_inflater

    store = Store(str(tmp_path), hashlib.sha256, inflate=make_inflater())
    old = demo_blob()
    store.begin(len(old), old[-32:])
    store.write(0, old)
    store.commit()
    new = demo_blob(n_cues=5)
    wire = bytearray(ops.deflate(new))
    wire[len(wire) // 2] ^= 0x55
    store.begin(len(new), new[-32:], len(wire), True)
    store.write(0, bytes(wire))
    with pytest.raises(StoreError) as err:
        store.commit()
    assert err.value.code == link.E_HASH
    assert (tmp_path / LIVE).read_bytes() == old
    assert sorted(p.name for p in tmp_path.iterdir()) == [LIVE]


def test_power_cut_while_inflating_leaves_old_show(tmp_path):
    from cuefw.store import INF, Store, make_inflater

    store = Store(str(tmp_path), hashlib.sha256, inflate=make_inflater())
    old, new = demo_blob(), demo_blob(n_cues=80)
    store.begin(len(old), old[-32:])
    store.write(0, old)
    store.commit()
    wire = ops.deflate(new)
    store.begin(len(new), new[-32:], len(wire), True)
    store.write(0, wire)
    store.f.flush()
    (tmp_path / INF).write_bytes(new[:100])  # the power went while show.inf was written
    booted = Store(str(tmp_path), hashlib.sha256, inflate=make_inflater())
    assert booted.boot() == str(tmp_path / LIVE)
    assert (tmp_path / LIVE).read_bytes() == old and not (tmp_path / INF).exists()
    assert booted.begin(len(new), new[-32:], len(wire), True) == len(wire)  # resumable
    booted.commit()
    assert (tmp_path / LIVE).read_bytes() == new


def test_socket_url_reaches_a_node_over_tcp(tmp_path):
    """serial_for_url: socket://host:port works like a serial port (e.g. a node behind a
    serial-to-network bridge)."""
    import socket

    from cuefw.nodelink import NodeLink
    from cuefw.store import Store

    node = RecordingNode("stage-left")
    nl = NodeLink(node, Store(str(tmp_path), hashlib.sha256))
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def serve():
        conn, _ = server.accept()
        with conn:
            while data := conn.recv(65536):
                out = nl.feed(data, 0)
                if out:
                    conn.sendall(bytes(out))

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    blob = demo_blob("stage-left")
    with ops.connect(f"socket://127.0.0.1:{port}") as s:
        assert s.info.node_id == "stage-left"
        ops.push(s, blob, "stage-left")
        assert ops.go(s) == {"cue": 0}
    t.join(5)
    server.close()
    assert (tmp_path / LIVE).read_bytes() == blob


def test_commit_in_slices_keeps_the_old_show_live_until_done(tmp_path):
    from cuefw.store import Store, make_inflater

    store = Store(str(tmp_path), hashlib.sha256, inflate=make_inflater())
    old, new = demo_blob(), sized_blob("stage-left", 40 * 1024)
    store.begin(len(old), old[-32:])
    store.write(0, old)
    store.commit()
    wire = ops.deflate(new)
    store.begin(len(new), new[-32:], len(wire), True)
    store.write(0, wire)
    store.commit_start()
    slices = 0
    while store.commit_step(4) is None:  # 4 x 512 bytes of inflating per step
        slices += 1
        assert (tmp_path / LIVE).read_bytes() == old  # live until the very last step
    assert slices >= len(new) // 2048 and (tmp_path / LIVE).read_bytes() == new


def test_node_answers_busy_while_committing_a_big_show(node, tmp_path):
    blob = sized_blob("stage-left", 200 * 1024)
    answers = []
    with ops.connect(node.port) as s:
        real_call = s.call

        def call(ftype, payload=b"", **kw):
            data = real_call(ftype, payload, **kw)
            if ftype == link.T_PUSH_COMMIT:
                answers.append(data)
            return data

        s.call = call
        ops.push(s, blob, "stage-left")
    assert answers[:-1] == [b'{"busy": true}'] * (len(answers) - 1) and len(answers) > 10
    assert answers[-1] == b'{"switched": true}'
    assert (tmp_path / LIVE).read_bytes() == blob


def test_permission_denied_names_the_cause_and_the_dialout_group():
    """pyserial says "could not open port" for every cause; EACCES must not read as 'no such
    port' (issue 11)."""
    from cuenode.node.transport import open_error

    exc = serial.SerialException(
        13, "could not open port /dev/ttyACM0: [Errno 13] Permission denied: '/dev/ttyACM0'"
    )
    err = open_error("/dev/ttyACM0", exc)
    assert "permission denied" in err.format_message() and "dialout" in err.format_message()
    missing = serial.SerialException(
        2, "could not open port /dev/ttyACM9: [Errno 2] No such file or directory"
    )
    assert open_error("/dev/ttyACM9", missing).message.startswith("no such port /dev/ttyACM9")


def test_refused_back_names_its_own_cause():
    """BACK on the first cue is not 'the cue list has ended'; a refused BACK is not about a
    second GO (issue 11)."""
    info = ops.NodeInfo("p", 1, "0.1", "emulator", "n", "", "", 0, 2048, 8, 1)
    first = ops.refusal(info, link.E_ENGINE, b"BACK refused: end-of-list").format_message()
    assert "first cue" in first and "ended" not in first
    double = ops.refusal(info, link.E_ENGINE, b"BACK refused: go-protect").format_message()
    assert "second BACK" in double and "GO came" not in double
    go = ops.refusal(info, link.E_ENGINE, b"GO refused: end-of-list").format_message()
    assert "the cue list has ended" in go
