"""The physical world of a node: a unix socket beside its USB serial.

Messages are length-prefixed (u32 little-endian) and start with a type byte: b"J" + JSON
(commands, replies, events) or b"D" + a DMX frame (`FRAME_HEAD` then the slots, start code
first). Clients send JSON commands `{"op": ..., "id": n}` and get `{"id": n, ...}` back.

| op | what |
| --- | --- |
| hello | node id, time mode, clock |
| subscribe | `dmx`: stream every frame; `pins`: stream pin level changes |
| state | pin levels and modes, frame count, probe (firmware status), REPL mode, clock |
| last_frame | the most recent DMX frame (a b"D" message) |
| advance | virtual time only: run the node up to now + `us` (or `ms`), in order |
| drive | hold an input pin at `level` (0/1) or release it (`null`: its pull decides) |
| bounce | toggle an input pin irregularly for `ms`, then settle at `level` |
| power_cut_at_write | cut the power during the k-th flash write from now |
| flash_writes | how many flash writes since boot |
"""

from __future__ import annotations

import json
import os
import random
import socket
import struct
from dataclasses import dataclass
from typing import Any

FRAME_HEAD = struct.Struct("<IqHHHH")  # seq, t_us, break_us, mab_us, slot_us, n_slots


def pack(kind: bytes, payload: bytes) -> bytes:
    return struct.pack("<I", len(payload) + 1) + kind + payload


def pack_json(obj: Any) -> bytes:
    return pack(b"J", json.dumps(obj, separators=(",", ":")).encode())


@dataclass(frozen=True)
class Frame:
    """One DMX packet as it went out on the virtual line."""

    seq: int
    t_us: int
    break_us: int
    mab_us: int
    slot_us: int
    data: bytes  # start code + slots

    @property
    def slots(self) -> bytes:
        return self.data[1:]

    def duration_us(self) -> int:
        return self.break_us + self.mab_us + len(self.data) * self.slot_us


def pack_frame(frame: Any) -> bytes:
    head = FRAME_HEAD.pack(
        frame.seq, frame.t_us, frame.break_us, frame.mab_us, frame.slot_us, len(frame.data)
    )
    return pack(b"D", head + frame.data)


def unpack_frame(payload: bytes) -> Frame:
    seq, t_us, brk, mab, slot, n = FRAME_HEAD.unpack_from(payload)
    data = payload[FRAME_HEAD.size : FRAME_HEAD.size + n]
    return Frame(seq, t_us, brk, mab, slot, bytes(data))


class Reader:
    """Splits a byte stream into (kind, payload) messages."""

    def __init__(self) -> None:
        self.buf = bytearray()

    def feed(self, data: bytes) -> list[tuple[bytes, bytes]]:
        self.buf += data
        out = []
        while len(self.buf) >= 4:
            (n,) = struct.unpack_from("<I", self.buf)
            if len(self.buf) < 4 + n:
                break
            msg = bytes(self.buf[4 : 4 + n])
            del self.buf[: 4 + n]
            out.append((msg[:1], msg[1:]))
        return out


class _Client:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.reader = Reader()
        self.out = bytearray()
        self.dmx = False
        self.pins = False


MAX_BACKLOG = 4 << 20  # a client that stops reading loses frames, never stalls the node


class WorldServer:
    """Node side. Runs on the node's loop; `node` gives access to clock, hardware, flash."""

    def __init__(self, path: str, node: Any) -> None:
        self.node = node
        self.path = path
        if os.path.exists(path):
            os.unlink(path)
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(path)
        self.listener.listen(8)
        self.listener.setblocking(False)
        self.clients: list[_Client] = []
        node.loop.add_reader(self.listener, self._accept)
        node.hw.listeners.append(self._on_hardware)
        self.rng = random.Random(1)

    def _accept(self) -> None:
        try:
            sock, _ = self.listener.accept()
        except BlockingIOError:
            return
        sock.setblocking(False)
        client = _Client(sock)
        self.clients.append(client)
        self.node.loop.add_reader(sock, lambda: self._on_readable(client))

    def _drop(self, client: _Client) -> None:
        self.node.loop.remove_reader(client.sock)
        client.sock.close()
        if client in self.clients:
            self.clients.remove(client)

    def _on_readable(self, client: _Client) -> None:
        try:
            data = client.sock.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._drop(client)
            return
        for kind, payload in client.reader.feed(data):
            if kind == b"J":
                self._command(client, json.loads(payload))

    def send(self, client: _Client, data: bytes, droppable: bool = False) -> None:
        if droppable and len(client.out) > MAX_BACKLOG:
            return
        client.out += data
        try:
            sent = client.sock.send(client.out)
            del client.out[:sent]
        except BlockingIOError:
            pass
        except OSError:
            self._drop(client)
            return
        if client.out and not droppable:
            self._flush_blocking(client)

    def _flush_blocking(self, client: _Client) -> None:
        import select

        while client.out:
            _, writable, _ = select.select([], [client.sock], [], 2.0)
            if not writable:
                self._drop(client)
                return
            try:
                sent = client.sock.send(client.out)
            except BlockingIOError:
                continue
            except OSError:
                self._drop(client)
                return
            del client.out[:sent]

    def _on_hardware(self, kind: str, payload: Any) -> None:
        if kind == "dmx":
            msg = pack_frame(payload)
            for client in list(self.clients):
                if client.dmx:
                    self.send(client, msg, droppable=True)
        elif kind == "pin":
            gpio, level, t_us = payload
            msg = pack_json({"ev": "pin", "gpio": gpio, "level": level, "t_us": t_us})
            for client in list(self.clients):
                if client.pins:
                    self.send(client, msg)

    # -- commands -----------------------------------------------------------------------
    def _command(self, client: _Client, cmd: dict[str, Any]) -> None:
        op = cmd.get("op")
        reply: dict[str, Any] = {"id": cmd.get("id"), "ok": True}
        try:
            handler = getattr(self, "op_" + str(op))
        except AttributeError:
            reply.update(ok=False, error=f"unknown op {op!r}")
        else:
            try:
                extra = handler(client, cmd)
            except Exception as exc:  # noqa: BLE001 - reported to the client, node goes on
                reply.update(ok=False, error=f"{type(exc).__name__}: {exc}")
                extra = None
            except BaseException as exc:
                # The node is going down (reset, power cut) or the firmware was interrupted:
                # answer first so the harness is never left waiting, then let it propagate.
                reply.update(
                    ok=True, interrupted=type(exc).__name__, now_us=self.node.loop.clock.now_us()
                )
                self.send(client, pack_json(reply))
                raise
            if isinstance(extra, bytes):
                self.send(client, extra)
                return
            reply.update(extra or {})
        self.send(client, pack_json(reply))

    def op_hello(self, client: _Client, cmd: dict[str, Any]) -> dict[str, Any]:
        clock = self.node.loop.clock
        return {
            "node": self.node.node_id,
            "virtual": clock.virtual,
            "now_us": clock.now_us(),
            "pid": os.getpid(),
            "runtime": "cpython",
        }

    def op_subscribe(self, client: _Client, cmd: dict[str, Any]) -> None:
        client.dmx = bool(cmd.get("dmx", client.dmx))
        client.pins = bool(cmd.get("pins", client.pins))

    def op_state(self, client: _Client, cmd: dict[str, Any]) -> dict[str, Any]:
        state = self.node.hw.snapshot()
        state.update(
            now_us=self.node.loop.clock.now_us(),
            repl=self.node.repl_state(),
            flash_writes=self.node.fs.writes,
            serial_rx=self.node.serial.received,
        )
        return state

    def op_last_frame(self, client: _Client, cmd: dict[str, Any]) -> Any:
        frame = self.node.hw.last_frame
        if frame is None:
            return {"frame": None}
        return pack_frame(frame)

    def op_advance(self, client: _Client, cmd: dict[str, Any]) -> dict[str, Any]:
        loop = self.node.loop
        if not loop.clock.virtual:
            raise_error("advance needs a node started with virtual time")
        us = int(cmd.get("us", 0)) + int(cmd.get("ms", 0)) * 1000
        loop.advance_to(loop.clock.now_us() + us)
        return {"now_us": loop.clock.now_us()}

    def op_stall(self, client: _Client, cmd: dict[str, Any]) -> dict[str, Any]:
        """The node's CPU is held for `ms` (a long GO, a flash write): node time jumps and
        nothing runs meanwhile; what was due runs late. Virtual time only."""
        clock = self.node.loop.clock
        if not clock.virtual:
            raise_error("stall needs a node started with virtual time")
        clock.set_virtual(clock.now_us() + int(cmd["ms"]) * 1000)
        return {"now_us": clock.now_us()}

    def op_drive(self, client: _Client, cmd: dict[str, Any]) -> None:
        level = cmd.get("level")
        self.node.hw.drive(int(cmd["gpio"]), None if level is None else int(level))

    def op_bounce(self, client: _Client, cmd: dict[str, Any]) -> dict[str, Any]:
        """Contact bounce: irregular toggles (0.1-1.5 ms apart) for `ms`, then `level`."""
        gpio, final = int(cmd["gpio"]), int(cmd["level"])
        loop, hw = self.node.loop, self.node.hw
        start = loop.clock.now_us()
        end = start + int(cmd["ms"]) * 1000
        rng = random.Random(cmd.get("seed", 1))
        t, level, toggles = start, final, 0
        while True:
            t += rng.randint(100, 1500)
            if t >= end:
                break
            loop.call_at(t, lambda lv=level: hw.drive(gpio, lv))
            level, toggles = 1 - level, toggles + 1
        loop.call_at(end, lambda: hw.drive(gpio, final))
        return {"toggles": toggles, "settle_us": end}

    def op_power_cut_at_write(self, client: _Client, cmd: dict[str, Any]) -> dict[str, Any]:
        fs = self.node.fs
        fs.cut_at_write = fs.writes + int(cmd["k"])
        return {"at": fs.cut_at_write}

    def op_fault(self, client: _Client, cmd: dict[str, Any]) -> dict[str, Any]:
        """Inject (or with no arguments clear) hardware faults: break_us, frame_stall_us,
        wdt_starve (the watchdog is never fed: it bites as for a hung loop), late_pins
        {gpio: [us, level]} (changes to `level` arrive late). The HIL suite uses them to prove
        its checks can fail."""
        faults = self.node.hw.faults
        faults.clear()
        for key in ("break_us", "frame_stall_us", "wdt_starve"):
            if cmd.get(key) is not None:
                faults[key] = int(cmd[key])
        if cmd.get("late_pins"):
            late = cmd["late_pins"].items()
            faults["late_pins"] = {int(g): (int(us), int(lv)) for g, (us, lv) in late}
        return {"faults": {k: v for k, v in faults.items()}}

    def op_flash_writes(self, client: _Client, cmd: dict[str, Any]) -> dict[str, Any]:
        return {"writes": self.node.fs.writes}


class WorldError(RuntimeError):
    """A node's world refused a command, or its socket is gone (both sides raise this one)."""


def raise_error(message: str) -> None:
    raise WorldError(message)
