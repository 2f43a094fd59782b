# The node interface that cuefw.nodelink talks to, built on the real cue engine, relay
# governor, event log and show store. Pure: time comes in as `now` (ticks_ms).
#
# main.py wires it (see docs/protocol.md, "Wiring a node"):
#   node = EngineNode(engine, governor, log, store, node_id, board, fw_version, now)
#   node.boot(now)                      # load the newest show that verifies
#   nl = NodeLink(node, store)
#   loop: out = nl.feed(bytes_from_serial, now); write out; node.poll(now)
#         if node.want_repl: leave the show loop (relays off) so the REPL takes the port
from cuefw import showfile
from cuefw.engine import MODE_NAMES
from cuefw.eventlog import GO_REASONS, cue_text, describe
from cuefw.store import LIVE


class EngineNode:
    def __init__(self, engine, governor, log, store, node_id, board, fw_version, now):
        self.engine = engine
        self.gov = governor
        self.log_ = log
        self.store = store
        self.node_id = node_id
        self.board = board
        self.fw_version = fw_version
        self.boot_tick = now
        self.f = None  # the open show file the engine streams from
        self.reader = None
        self.info = None  # (show name, content hash)
        self.pending = False  # a committed show waits for the current fade to end
        self.want_repl = False
        self.dmx_fps = 0  # set by the DMX task (frames per second, integer)
        self.load_error = ""

    # --- show loading ----------------------------------------------------------------------

    def boot(self, now):
        """Load the newest show that verifies (finishing an interrupted commit first)."""
        path = self.store.boot()
        if path is not None:
            self._load(path, now)
        return path

    def _load(self, path, now):
        f = open(path, "rb")
        try:
            reader = showfile.ShowReader(f)
            self.engine.load(reader, now)
        except Exception as e:
            f.close()
            self.load_error = str(e)
            raise
        old = self.f
        self.f, self.reader = f, reader
        self.info = (reader.show_name, showfile.content_hash(f))
        self.load_error = ""
        if old is not None:
            old.close()

    def new_show(self, path, force, now):
        """A new show was committed: take it now if forced or between cues, else later."""
        if force or not self.engine.fading:
            self.pending = False
            self._load(path, now)
            return True
        self.pending = True
        return False

    def poll(self, now):
        """Called by the main loop: switch to a waiting show once the running fade is done."""
        if self.pending and not self.engine.fading:
            self.pending = False
            self._load(self.store.path(LIVE), now)

    def show_info(self):
        return self.info

    # --- commands: a refusal raises ValueError with the engine's logged reason -----------

    def _refused(self, what):
        reason = "refused"
        if len(self.log_):
            code_b = self.log_.get(0)[3]
            reason = GO_REASONS.get(code_b, reason)
        raise ValueError("%s refused: %s" % (what, reason))

    def _cue(self):
        e = self.engine
        return {"cue": cue_text(e.current_number), "next": cue_text(e.next_number)}

    def go(self, now):
        if not self.engine.go(now):
            self._refused("GO")
        return self._cue()

    def back(self, now):
        if not self.engine.back(now):
            self._refused("BACK")
        return self._cue()

    def stop(self, now):
        self.engine.stop(now)
        return self._cue()

    def goto(self, number, now):
        if not self.engine.fire(number, now):
            self._refused("GOTO %s" % cue_text(number))
        return self._cue()

    def arm(self, now):
        self.gov.arm(now)
        return {"armed": True}

    def disarm(self, now):
        self.gov.disarm(now)
        return {"armed": False}

    def repl(self):
        self.want_repl = True

    # --- reading -----------------------------------------------------------------------------

    def status(self, now):
        e = self.engine
        info = self.info
        return {
            "mode": MODE_NAMES[e.mode],
            "cue": cue_text(e.current_number),
            "next": cue_text(e.next_number),
            "progress_pct": e.progress(now) // 10,
            "fading": e.fading,
            "armed": self.gov.armed,
            "relays": self._relays(now),
            "dmx_fps": self.dmx_fps,
            "uptime_s": ((now - self.boot_tick) & 0x3FFFFFFF) // 1000,
            "show": info[0] if info else "",
            "show_hash": "".join("%02x" % b for b in info[1]) if info else "",
            "pending_show": self.pending,
            "fw_version": self.fw_version,
            "board": self.board,
            "load_error": self.load_error,
        }

    def _relays(self, now):
        out = []
        n = self.reader.n_relays if self.reader is not None else 0
        for i in range(n):
            name = self.reader.relay(i)[0]
            out.append([name, self.gov.is_on(i), self.gov.remaining_on_ms(i, now)])
        return out

    def log(self, since, limit):
        """Events after event number `since` (oldest first) as [tick_ms, text]; next number."""
        log = self.log_
        first = max(since, log.seq - len(log))
        last = min(log.seq, first + limit)
        events = []
        for n in range(first, last):
            ev = log.get(log.seq - 1 - n)
            text = describe(ev)
            events.append([ev[0], text[text.find(" ") + 1 :]])
        return events, last
