"""The console's local socket: other `cuenode` commands reach the held nodes through it
(the client and the wire form are in cuenode.node.viaconsole).

Each request runs on the node's worker link between the worker's own requests
(NodeWorker.call), so a status or push mid-show never opens the port a second time. The
socket file is only reachable by this user (mode 0600): it controls the show."""

from __future__ import annotations

import base64
import json
import os
import queue
import socketserver
import threading
from dataclasses import asdict
from pathlib import Path
from typing import Any

from cuefw import link

from cuenode.errors import CuenodeError
from cuenode.node import ops, viaconsole
from cuenode.node.ops import NodeEvent, Session

from .console import Console
from .links import NodeWorker


class LocalServer:
    """Serves `console` on a Unix socket at `path` in a thread; `close()` removes it."""

    def __init__(self, console: Console, path: Path | None = None) -> None:
        self.console = console
        self.path = path or viaconsole.socket_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if viaconsole.held_nodes(self.path):
            raise CuenodeError(
                f"another console is running here (it answers on {self.path})",
                "use that console, or stop it first",
            )
        self.path.unlink(missing_ok=True)  # left by a console that was killed
        server = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                server.handle(self.rfile, self.wfile)

        self.server = socketserver.ThreadingUnixStreamServer(str(self.path), Handler)
        self.server.daemon_threads = True
        os.chmod(self.path, 0o600)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> LocalServer:
        self.thread.start()
        self.console.log(f"local socket: {self.path} (status, push, go... reach the nodes here)")
        return self

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.path.unlink(missing_ok=True)

    # --- one connection ----------------------------------------------------------------------

    def handle(self, rfile, wfile) -> None:
        def answer(d: dict[str, Any]) -> None:
            wfile.write(json.dumps(d).encode() + b"\n")
            wfile.flush()

        for line in rfile:
            try:
                request = json.loads(line)
                handler = getattr(self, f"_op_{request.get('op')}", None)
                if handler is None:
                    raise CuenodeError(f"the console has no operation {request.get('op')!r}")
                handler(request, answer)
            except CuenodeError as exc:
                answer({"error": exc.message, "remedy": exc.remedy, "end": True})
            except (BrokenPipeError, ConnectionResetError):
                return
            except Exception as exc:  # noqa: BLE001 - one bad request must not end the console
                answer({"error": f"console: {type(exc).__name__}: {exc}", "end": True})

    def _worker(self, port: str) -> NodeWorker:
        for worker in self.console.workers.values():
            if viaconsole.same_port(worker.port, port):
                return worker
        raise CuenodeError(f"the console does not hold {port}")

    def _op_nodes(self, request: dict, answer) -> None:
        nodes = []
        for name, worker in self.console.workers.items():
            session = worker.session
            info = viaconsole.info_dict(session.info) if session is not None else None
            nodes.append({"name": name, "port": worker.port, "info": info})
        answer({"nodes": nodes, "end": True})

    def _op_call(self, request: dict, answer) -> None:
        worker = self._worker(request["port"])
        ftype = request["ftype"]
        payload = base64.b64decode(request["payload"])

        def call(session: Session):
            if ftype == link.T_HELLO:  # keep the console's own subscription to events
                return session.transport.request(ftype, ops.hello_payload(session.events))
            return session.transport.request(
                ftype,
                payload,
                timeout=request.get("timeout"),
                retries=request.get("retries"),
                resend_after=request.get("resend_after"),
            )

        reply = worker.call(call)
        if reply is None:
            answer({"status": None, "end": True})
            return
        answer({"status": reply.status, "data": base64.b64encode(reply.data).decode(), "end": True})

    def _op_push(self, request: dict, answer) -> None:
        worker = self._worker(request["port"])
        blob = base64.b64decode(request["blob"])
        self.console.log(f"{worker.node}: push of {len(blob)} bytes (from another command)")

        def progress(done: int, total: int) -> None:
            answer({"progress": [done, total]})

        result = worker.call(
            lambda s: ops.push(s, blob, request["show_node"], progress=progress, **request["opts"])
        )
        self.console.log(f"{worker.node}: pushed, {'switched' if result.switched else 'waiting'}")
        worker.refresh_soon()
        answer({"result": asdict(result), "end": True})

    def _op_events(self, request: dict, answer) -> None:
        worker = self._worker(request["port"])
        events: queue.Queue[NodeEvent] = queue.Queue()

        def listener(node: str, event: NodeEvent) -> None:
            if node == worker.node:
                events.put(event)

        self.console.listeners.append(listener)
        try:
            answer({"following": worker.node})
            while True:
                event = events.get()
                answer({"event": [event.number, event.tick, event.code, event.a, event.b]})
        finally:
            self.console.listeners.remove(listener)
