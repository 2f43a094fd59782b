# The node's side of the link: wire bytes in, response bytes out. Pure: the caller passes
# `now` (ticks_ms) and does the serial I/O; the cue engine and the show store are reached
# through small interfaces (see docs/protocol.md, "Node interface").
#
# `node` must provide:
#   node_id, board, fw_version        strings ("" node_id: not given an identity yet)
#   show_info()                       (show name, 32-byte hash) of the running show, or None
#   go(now) back(now) stop(now) arm(now) disarm(now) goto(number, now)
#                                     raise ValueError("why") to refuse
#   status(now)                       a dict that json can encode
#   log(since, limit)                 (list of [t_ms, text], next index)
#   new_show(path, force, now, top)   True if it switched now, False if at the next cue;
#                                     top: start at the top, not at the same cue
#   repl()                            leave the show loop for the REPL after this response
import json
import struct

from cuefw import link
from cuefw.store import StoreError

FW_CAPS = link.CAP_PUSH | link.CAP_WINDOW | link.CAP_RESUME | link.CAP_REPL_CMD | link.CAP_LOG
MAX_EVENTS_PER_SEND = 16  # one events() call sends at most this many (the rest next time)

COMMIT_BLOCKS = 16  # 8 KB of inflating per PUSH_COMMIT request

# Requests whose repetition must not repeat their effect: a retransmitted GO (same seq, same
# bytes) gets the cached response instead of a second GO.
_ONCE = (
    link.T_GO,
    link.T_BACK,
    link.T_STOP,
    link.T_GOTO,
    link.T_ARM,
    link.T_DISARM,
    link.T_PUSH_COMMIT,
    link.T_PUSH_ABORT,
    link.T_REPL,
)


def _hex(raw):
    return "".join("%02x" % b for b in raw) if raw else ""


class NodeLink:
    def __init__(self, node, store, max_chunk=2048, window=8):
        self.node = node
        self.store = store
        self.max_chunk = min(max_chunk, link.MAX_PAYLOAD - 4)
        self.window = window
        # Sized for the largest request this node accepts (a chunk), stuffed in the worst
        # case: 4 KB of RAM with 2 KB chunks instead of MAX_WIRE's 8 KB.
        biggest = link.HEADER_LEN + 4 + self.max_chunk + link.CRC_LEN
        self.deframer = link.Deframer(min(link.MAX_WIRE, 2 * biggest + 1))
        self.last_key = None  # (seq, type, crc of payload) of the last _ONCE request
        self.last_response = None
        self.duplicates = 0
        self.waiting_sha = None  # hash of a committed show the engine has not switched to yet
        if store.check is None:  # a pushed show this node cannot run is refused before commit
            store.check = getattr(node, "check_show", None)
        self.requests = 0
        self.subscribed = False  # the host asked for event frames in its HELLO
        self.event_next = 0  # number of the next event log entry to send
        self._handlers = {
            link.T_HELLO: self._hello,
            link.T_STATUS: self._status,
            link.T_LOG: self._log,
            link.T_ECHO: self._echo,
            link.T_GO: self._go,
            link.T_BACK: self._back,
            link.T_STOP: self._stop,
            link.T_GOTO: self._goto,
            link.T_ARM: self._arm,
            link.T_DISARM: self._disarm,
            link.T_PUSH_BEGIN: self._begin,
            link.T_PUSH_CHUNK: self._chunk,
            link.T_PUSH_COMMIT: self._commit,
            link.T_PUSH_ABORT: self._abort,
            link.T_REPL: self._repl,
        }

    def feed(self, data, now):
        """Bytes from the serial line in; the bytes to write back out (possibly empty)."""
        out = bytearray()
        for frame in self.deframer.feed_iter(data):
            out.extend(self.handle(frame, now))
        return out

    def handle(self, frame, now):
        """One decoded good frame in; one wire response out. Never raises."""
        self.requests += 1
        ftype = frame.ftype
        if ftype & link.RESPONSE or ftype == link.T_EVENT:
            return b""  # a node never answers responses or events (an echo of its own output)
        key = None
        if ftype in _ONCE:
            key = (frame.seq, ftype, link.crc32(frame.payload))
            if key == self.last_key:
                self.duplicates += 1
                return self.last_response
        try:
            handler = self._handlers.get(ftype)
            if handler is None:
                status, data = link.E_UNKNOWN_TYPE, ("unknown request type 0x%02x" % ftype).encode()
            else:
                status, data = handler(frame.payload, now)
        except StoreError as e:
            status, data = e.code, _store_error_data(e)
        except (ValueError, IndexError, KeyError, TypeError) as e:
            status, data = _refusal(ftype), str(e).encode()
        except Exception as e:  # the link must outlive any engine or storage failure
            status, data = link.E_ENGINE, ("%s: %s" % (type(e).__name__, e)).encode()
        if len(data) > link.MAX_PAYLOAD - 1:
            data = data[: link.MAX_PAYLOAD - 1]
        resp = link.response(ftype, frame.seq, status, data)
        if key is not None:
            self.last_key, self.last_response = key, resp
        return resp

    def counters(self):
        d = self.deframer
        return {
            "frames": d.frames,
            "crc": d.crc_errors,
            "escape": d.bad_escapes,
            "overflow": d.overflows,
            "runt": d.runts,
            "dup": self.duplicates,
        }

    # --- identity and reading -------------------------------------------------------------

    def _hello(self, payload, now):
        self.last_key = self.last_response = None  # a new host session: forget old seqs
        log = getattr(self.node, "log_", None)
        # byte 1 (optional, protocol 1): host flags; an old host sends only its version and
        # never gets an event frame
        self.subscribed = (
            log is not None and len(payload) > 1 and bool(payload[1] & link.HELLO_EVENTS)
        )
        if self.subscribed:
            self.event_next = log.seq  # events from now on; older ones are in LOG
        info = self.node.show_info()
        d = {
            "proto": link.PROTOCOL_VERSION,
            "fw": self.node.fw_version,
            "board": self.node.board,
            "node": self.node.node_id,
            "show": info[0] if info else "",
            "hash": _hex(info[1]) if info else "",
            "caps": FW_CAPS
            | (link.CAP_DEFLATE if self.store.inflate else 0)
            | (link.CAP_EVENTS if log is not None else 0),
            "chunk": self.max_chunk,
            "window": self.window,
            "max_show": self.store.max_size,
        }
        return link.OK, bytes([link.PROTOCOL_VERSION]) + json.dumps(d).encode()

    def _status(self, payload, now):
        st = self.node.status(now)
        st["link"] = self.counters()
        return link.OK, json.dumps(st).encode()

    def _log(self, payload, now):
        since, limit = struct.unpack("<IH", payload) if len(payload) == 6 else (0, 64)
        limit = min(limit, 64)
        while True:
            events, nxt = self.node.log(since, limit)
            data = json.dumps({"events": events, "next": nxt}).encode()
            if len(data) < link.MAX_PAYLOAD - 1 or limit <= 1:
                return link.OK, data
            limit //= 2

    def _echo(self, payload, now):
        return link.OK, bytes(payload)

    # --- show control ---------------------------------------------------------------------

    def _go(self, payload, now):
        return self._done(self.node.go(now))

    def _back(self, payload, now):
        return self._done(self.node.back(now))

    def _stop(self, payload, now):
        return self._done(self.node.stop(now))

    def _goto(self, payload, now):
        if len(payload) not in (4, 5):
            raise ValueError("GOTO takes a cue number")
        number = struct.unpack_from("<i", payload, 0)[0]
        if len(payload) == 5 and payload[4] & link.F_GOTO_SYNC:
            return self._done(self.node.goto(number, now, True))
        return self._done(self.node.goto(number, now))

    # --- events -------------------------------------------------------------------------------

    def events(self):
        """Event frames (docs/protocol.md, "Events") for the log entries not yet sent to a
        subscribed host, or b"". main.py's link task calls it whenever the log grows."""
        if not self.subscribed:
            return b""
        log = self.node.log_
        first = max(self.event_next, log.seq - len(log))  # entries overwritten are lost
        last = min(log.seq, first + MAX_EVENTS_PER_SEND)
        out = bytearray()
        for n in range(first, last):
            tick, code, a, b = log.get(log.seq - 1 - n)
            payload = struct.pack(link.EVENT_FORMAT, n, tick & 0xFFFFFFFF, code, a, b)
            link.encode(link.T_EVENT, n & 0xFFFF, payload, out)
        self.event_next = last
        return out

    def events_waiting(self):
        return self.subscribed and self.event_next < self.node.log_.seq

    def _arm(self, payload, now):
        return self._done(self.node.arm(now))

    def _disarm(self, payload, now):
        return self._done(self.node.disarm(now))

    def _done(self, result):
        return link.OK, json.dumps(result).encode() if result is not None else b""

    def _repl(self, payload, now):
        self.node.repl()
        return link.OK, b""

    # --- push -----------------------------------------------------------------------------

    def _begin(self, payload, now):
        size, sha, flags, show_node, wire = link.unpack_begin(payload)
        mine = self.node.node_id
        if mine and show_node != mine and not flags & link.F_FORCE_IDENTITY:
            return link.E_IDENTITY, json.dumps({"show_node": show_node, "node": mine}).encode()
        if self._switch_pending():
            # The engine still streams from the show before the waiting one; the next commit
            # would delete that file (show.prev) under it.
            raise StoreError(
                link.E_BUSY,
                "the last pushed show waits for the running fade to "
                "end; push again once it has switched",
            )
        offset = self.store.begin(size, sha, wire, bool(flags & link.F_DEFLATE))
        return link.OK, struct.pack("<IHB", offset, self.max_chunk, self.window)

    def _switch_pending(self):
        if self.waiting_sha is None:
            return False
        info = self.node.show_info()
        if info is not None and bytes(info[1]) == self.waiting_sha:
            self.waiting_sha = None  # the engine has switched to it
            return False
        return True

    def _chunk(self, payload, now):
        if len(payload) < 4 or len(payload) - 4 > self.max_chunk:
            raise ValueError("bad chunk length")
        offset = struct.unpack_from("<I", payload, 0)[0]
        received = self.store.write(offset, payload[4:])
        return link.OK, struct.pack("<I", received)

    def _commit(self, payload, now):
        """Each PUSH_COMMIT does one slice of the commit (COMMIT_BLOCKS x 512 bytes of
        inflating) and answers {"busy": true} until the show is verified and live, so the
        node's loop keeps running while a large show is committed; the host asks again."""
        flags = payload[0] if len(payload) else 0
        self.store.commit_start()
        path = self.store.commit_step(COMMIT_BLOCKS)
        if path is None:
            return link.OK, b'{"busy": true}'
        sha = self.store.sha
        top = bool(flags & link.F_FROM_TOP)
        switched = self.node.new_show(path, bool(flags & link.F_FORCE_SWITCH), now, top)
        self.waiting_sha = None if switched else sha
        answer = {"switched": bool(switched)}
        where = getattr(self.node, "position", None)  # where the new show stands by
        if switched and where is not None:
            answer["position"] = where
        return link.OK, json.dumps(answer).encode()

    def _abort(self, payload, now):
        self.store.abort()
        return link.OK, b""


def _refusal(ftype):
    return link.E_BAD_REQUEST if ftype >= link.T_PUSH_BEGIN else link.E_ENGINE


def _store_error_data(e):
    if e.code == link.E_OFFSET:
        return struct.pack("<I", e.expected) + e.message.encode()
    return e.message.encode()
