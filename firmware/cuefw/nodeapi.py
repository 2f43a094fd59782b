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
from cuefw.engine import MODE_NAMES, MODE_RUNNING
from cuefw.eventlog import (
    EV_CUE_DONE,
    EV_RELAY_REFUSED,
    EV_SHOW_FAILED,
    GO_REASONS,
    R_NOT_ARMED,
    cue_text,
    describe,
)
from cuefw.store import LIVE


def _hex(raw):
    return "".join("%02x" % b for b in raw)


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
        self.pending_top = False  # ...and then starts at its top (push --from-top)
        self.position = None  # where the last switched-in show stands by (see _place)
        self.want_repl = False
        self.dmx_fps = 0  # set by the DMX task (frames per second, integer)
        self.load_error = ""
        self.resumed_after = -1  # cue number live before the reset we resumed from (-1: none)
        self.skipped = []  # "fog not armed": relay actions the last cue change did not run
        # poll() logs EV_CUE_DONE once per cue run, when its fade has arrived: the run is
        # told apart by (cue index, start tick)
        self.done_index = -1
        self.done_start = 0

    # --- show loading ----------------------------------------------------------------------

    def boot(self, now):
        """Load the newest show that verifies and loads (finishing an interrupted commit
        first): show.bin, else show.prev. Never raises; load_error says what failed."""
        self.store.boot()
        failed = ""
        for path in self.store.candidates():
            if self._try_load(path, now):
                if failed:  # running the fallback: say why the newer show is not running
                    self.load_error = failed + " (running %s)" % path.rsplit("/", 1)[-1]
                return path
            failed = failed or self.load_error
        return None

    def _try_load(self, path, now):
        try:
            self._load(path, now)
            return True
        except Exception as e:  # a show that cannot load must not stop the node
            self.load_error = "%s: %s" % (path.rsplit("/", 1)[-1], e)
            self.log_.add(now, EV_SHOW_FAILED, 0, 0)
            print("cuenode: show not loaded:", self.load_error)
            return False

    def check_show(self, path):
        """Raise (ShowError, ValueError...) if this node cannot run the show at `path`:
        format, engine limits (parameters, relay count) and this board's pin labels."""
        with open(path, "rb") as f:
            reader = showfile.ShowReader(f)
            self.engine.check(reader)
            self.check_board(reader)

    def check_board(self, reader):
        """Board-specific checks (main.App: relay and button labels). Raise to refuse."""

    def _load(self, path, now):
        f = open(path, "rb")
        try:
            reader = showfile.ShowReader(f)
            self.check_board(reader)  # before the engine switches: a refusal changes nothing
            self.engine.load(reader, now)
        except Exception as e:
            f.close()
            self.load_error = str(e)
            raise
        old = self.f
        self.f, self.reader = f, reader
        self.info = (reader.show_name, showfile.content_hash(f))
        self.load_error = ""
        self.resumed_after = -1
        if old is not None:
            old.close()

    def new_show(self, path, force, now, top=False):
        """A new show was committed: take it now if forced or between cues, else later.
        A new version of the running show keeps the position (see _place) unless `top`."""
        if force or not self.engine.fading:
            self.pending = False
            where = self._where()
            self._load(path, now)
            self._place(where, top, now)
            return True
        self.pending = True
        self.pending_top = top
        return False

    def _where(self):
        """(show name, next cue number, current cue number) before a switch."""
        e = self.engine
        return (self.info[0] if self.info else None, e.next_number, e.current_number)

    def _place(self, where, top, now):
        """After a switch: a new version of the same show (same name) stands by at the cue
        that was next, else at the nearest following one (GO required); `position` says
        where for the host: {"next", "was_next", "kept": "same"|"following"|"end"|"top"}."""
        name, was_next, was_cue = where
        e = self.engine
        now_name = self.info[0] if self.info is not None else None
        if top or name is None or name != now_name or (was_next < 0 and was_cue < 0):
            self.position = {"next": cue_text(e.next_number), "kept": "top"}
            return
        want = was_next if was_next >= 0 else was_cue + 1  # at the end: after the last cue
        index = self._first_at_or_after(want)
        if index < e.n_cues:
            e.resume(index, now)
        else:
            e._stand_by(index)  # past the last cue: GO answers end-of-list, never the top
        self.resumed_after = was_cue
        kept = "same" if e.next_number == was_next else "following"
        self.position = {
            "next": cue_text(e.next_number),
            "was_next": cue_text(was_next),
            "kept": kept if index < e.n_cues else "end",
        }

    def _first_at_or_after(self, number):
        """Index of the first cue numbered `number` or more (n_cues if none): cue numbers
        ascend in a compiled show."""
        for i in range(self.engine.n_cues):
            if self.reader.cue_number(i) >= number:
                return i
        return self.engine.n_cues

    def poll(self, now):
        """Called by the main loop: switch to a waiting show once the running fade is done.
        Never raises (it runs in the DMX task): a failed switch keeps the running show."""
        e = self.engine
        fading = e.fading
        if not fading and e.mode == MODE_RUNNING:
            start = e._cue_start
            if e.current != self.done_index or start != self.done_start:
                self.done_index, self.done_start = e.current, start
                self.log_.add(now, EV_CUE_DONE, e.current, e.current_number)
        if self.pending and not fading:
            self.pending = False
            where = self._where()
            if self._try_load(self.store.path(LIVE), now):
                self._place(where, self.pending_top, now)

    def show_info(self):
        return self.info

    # --- resume after a reset: main.py persists cue_state() and feeds it back at boot -----

    def cue_state(self):
        """One line naming the show and where it is ("<hash> <next index> <current cue
        number>"), or None without a show. Written to flash when it changes."""
        if self.info is None:
            return None
        e = self.engine
        # standing by after a resume: keep naming the cue live before the reset (a second
        # reset before the next GO must still say where the show was)
        number = e.current_number if e.current >= 0 else self.resumed_after
        return "%s %d %d" % (_hex(self.info[1]), e.next_index, number)

    def resume_from(self, state, now):
        """After a reset: stand by where the saved cue_state() line says, GO required.
        Ignored (False) if it is for another show, at the start, or unreadable."""
        words = state.split()
        if len(words) != 3 or self.info is None or words[0] != _hex(self.info[1]):
            return False
        try:
            index, number = int(words[1]), int(words[2])
        except ValueError:
            return False
        if index <= 0 or index >= self.engine.n_cues or not self.engine.resume(index, now):
            return False
        self.resumed_after = number
        return True

    # --- commands: a refusal raises ValueError with the engine's logged reason -----------

    def _refused(self, what):
        reason = "refused"
        if len(self.log_):
            code_b = self.log_.get(0)[3]
            reason = GO_REASONS.get(code_b, reason)
        raise ValueError("%s refused: %s" % (what, reason))

    def _cue(self, seq=-1):
        """The reply to a cue change; relays its cue asked for but could not switch on
        because the node is disarmed are named, so a skipped fog is never silent."""
        e = self.engine
        out = {"cue": cue_text(e.current_number), "next": cue_text(e.next_number)}
        if seq >= 0:
            self.skipped = self._not_armed_since(seq)
        if self.skipped:
            out["skipped"] = self.skipped
        return out

    def _not_armed_since(self, seq):
        names = []
        for _, code, a, b in self.log_.since(seq):
            if code == EV_RELAY_REFUSED and b == R_NOT_ARMED:
                text = "%s not armed" % self._relay_name(a)
                if text not in names:
                    names.append(text)
        return names

    def _relay_name(self, i):
        reader = self.reader
        return reader.relay(i)[0] if reader is not None and i < reader.n_relays else "relay %d" % i

    def _relay_names(self):
        reader = self.reader
        n = reader.n_relays if reader is not None else 0
        return [reader.relay(i)[0] for i in range(n)]

    def go(self, now):
        seq = self.log_.seq
        if not self.engine.go(now):
            self._refused("GO")
        return self._cue(seq)

    def back(self, now):
        seq = self.log_.seq
        if not self.engine.back(now):
            self._refused("BACK")
        return self._cue(seq)

    def stop(self, now):
        self.engine.stop(now)
        return self._cue()

    def goto(self, number, now, sync=False):
        """GOTO a cue number. sync (the console keeping nodes in step): a node already
        running that cue (not stopped) does nothing and says so."""
        e = self.engine
        if sync and e.mode == MODE_RUNNING and e.current_number == number:
            return {"cue": cue_text(number), "next": cue_text(e.next_number), "already": True}
        seq = self.log_.seq
        if not e.fire(number, now):
            self._refused("GOTO %s" % cue_text(number))
        return self._cue(seq)

    def arm(self, now):
        self.gov.arm(now)
        self.skipped = []  # armed now: what the last cue skipped is no longer the state
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
            "show_hash": _hex(info[1]) if info else "",
            "pending_show": self.pending,
            "fw_version": self.fw_version,
            "board": self.board,
            "loops": e.paths(),  # {"frame": "native"|"plain", "go": ...}: see cuefw/loops.py
            "load_error": self.load_error,
            # standing by after a reset: the cue that was live before it (GO runs "next")
            "resumed_after": cue_text(self.resumed_after) if e.current < 0 else "",
            "skipped": self.skipped,  # relays the last cue change skipped ("fog not armed")
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
        names = self._relay_names()
        for n in range(first, last):
            ev = log.get(log.seq - 1 - n)
            text = describe(ev, names)
            events.append([ev[0], text[text.find(" ") + 1 :]])
        return events, last
