# Crash-safe show storage on the node's filesystem (littlefs on a board, a directory in the
# emulator). Pure: takes the directory and the os module's functions, reads no clock.
#
# Files in `root`:
#   show.bin   the live show
#   show.prev  the previous live show (the fallback)
#   show.tmp   an incoming transfer, written chunk by chunk
#   show.meta  what show.tmp is meant to become: "<size> <sha256 hex>" (for resuming)
#   show.new   a transfer that verified and was committed, waiting to become show.bin
#   show.inf   scratch: a compressed (raw deflate) transfer being inflated at commit
#
# Commit is a small journal of renames, each atomic on littlefs and POSIX:
#   1. verify show.tmp (trailing SHA-256 and the hash announced at PUSH_BEGIN)
#   2. rename show.tmp -> show.new      (the commit point)
#   3. rename show.bin -> show.prev
#   4. rename show.new -> show.bin
# boot() finishes an interrupted commit (a verifying show.new wins), then loads the first of
# show.bin, show.prev that verifies. A crash at any point leaves the old or the new show.
import os

from cuefw import link, showfile

LIVE = "show.bin"
PREV = "show.prev"
TMP = "show.tmp"
META = "show.meta"
NEW = "show.new"
INF = "show.inf"  # scratch: a compressed transfer inflated at commit, before it is verified
WBITS = 10  # deflate window of compressed pushes: 1 KB of RAM to inflate on the node


class StoreError(Exception):
    """code is a cuefw.link status code (E_TOO_LARGE, E_HASH, E_NO_TRANSFER, E_OFFSET...)."""

    def __init__(self, code, message, expected=0):
        super().__init__(message)
        self.code = code
        self.message = message
        self.expected = expected


def _exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


def _size(path):
    try:
        return os.stat(path)[6]
    except OSError:
        return -1


def _remove(path):
    try:
        os.remove(path)
    except OSError:
        pass


def _sync(f):
    f.flush()
    fsync = getattr(os, "fsync", None)  # CPython; MicroPython's close() commits the file
    if fsync is not None:
        fsync(f.fileno())


def make_inflater():
    """inflate(fin, fout, buf) for raw-deflate streams, or None if this runtime has none:
    MicroPython's `deflate` module, else CPython's `zlib`. It is a generator that yields after
    each block it writes, so a commit can be done a slice at a time."""
    try:
        import deflate
    except ImportError:
        deflate = None
    if deflate is not None:

        def inflate(fin, fout, buf):
            d = deflate.DeflateIO(fin, deflate.RAW, WBITS)
            mv = memoryview(buf)
            while True:
                n = d.readinto(buf)
                if not n:
                    return
                fout.write(mv[:n])
                yield

        return inflate
    try:
        import zlib
    except ImportError:
        return None

    def inflate(fin, fout, buf):
        d = zlib.decompressobj(-WBITS)
        while True:
            block = d.unconsumed_tail or fin.read(len(buf))
            if not block:
                break
            fout.write(d.decompress(block, len(buf)))  # at most one buffer out per step
            yield
        fout.write(d.flush())

    return inflate


class Store:
    """Show files under `root`. `sha256` is the hash constructor (hashlib.sha256)."""

    def __init__(self, root, sha256, max_size=1 << 20, inflate="auto"):
        self.root = root.rstrip("/") if len(root) > 1 else root
        self.sha256 = sha256
        self.max_size = max_size
        # inflate(fin, fout, buf) accepts compressed transfers; "auto": this runtime's own
        self.inflate = make_inflater() if inflate == "auto" else inflate
        self.f = None  # the open show.tmp during a transfer
        self.size = 0  # announced size of the show
        self.sha = None  # announced content hash of the show
        self.wire = 0  # bytes of the transfer (the compressed size if deflated)
        self.deflated = False
        self.received = 0  # contiguous bytes of the transfer written so far
        self.job = None  # a commit in progress (generator), see commit_step
        # check(path) raises if the node cannot run a verified show (labels this board lacks,
        # too many relays...): called before the commit point, so a refused show never
        # replaces the live one. Set by the node (NodeLink wires EngineNode.check_show).
        self.check = None

    def path(self, name):
        return self.root + "/" + name

    # --- reading -------------------------------------------------------------------------

    def verifies(self, name):
        try:
            with open(self.path(name), "rb") as f:
                return showfile.verify(f, self.sha256)
        except (OSError, ValueError, showfile.ShowError):
            return False

    def content_hash(self, name):
        try:
            with open(self.path(name), "rb") as f:
                return showfile.content_hash(f)
        except (OSError, ValueError):
            return None

    def boot(self):
        """Finish an interrupted commit, then return the path of the show to run, or None."""
        _remove(self.path(INF))
        if _exists(self.path(NEW)):
            if self.verifies(NEW):
                self._promote()
            else:
                _remove(self.path(NEW))
        for name in (LIVE, PREV):
            if self.verifies(name):
                return self.path(name)
        return None

    def live_path(self):
        return self.path(LIVE) if _exists(self.path(LIVE)) else None

    # --- transfer ------------------------------------------------------------------------

    def begin(self, size, sha, wire=-1, deflated=False):
        """Start (or resume) receiving a show of `size` bytes whose trailing hash is `sha`,
        sent as `wire` bytes (raw deflate if `deflated`, else wire == size).

        Returns the offset to send from: 0, or how much of the same transfer is already here."""
        if size > self.max_size:
            raise StoreError(
                link.E_TOO_LARGE,
                "show is %d bytes, this node holds at most %d" % (size, self.max_size),
            )
        if deflated and self.inflate is None:
            raise StoreError(link.E_BAD_REQUEST, "this node cannot inflate compressed pushes")
        wire = size if wire < 0 else wire
        key = (size, bytes(sha), wire, bool(deflated))
        if self.f is not None and key == (self.size, self.sha, self.wire, self.deflated):
            return self.received
        self._drop_job()
        self._close()
        resume = self._resumable(key)
        self.f = open(self.path(TMP), "r+b" if resume else "wb")
        if resume:
            self.f.seek(resume)
        else:
            self._write_meta(key)
        self.size, self.sha, self.wire, self.deflated = key
        self.received = resume
        return resume

    def _resumable(self, key):
        """Bytes of show.tmp that belong to the same transfer (0 if it is another one)."""
        try:
            with open(self.path(META)) as f:
                words = f.read().split()
        except OSError:
            return 0
        if words != _meta_words(key):
            return 0
        have = _size(self.path(TMP))
        return min(have, key[2]) if have > 0 else 0

    def _write_meta(self, key):
        with open(self.path(META), "w") as f:
            f.write(" ".join(_meta_words(key)) + "\n")
            _sync(f)

    def write(self, offset, data):
        """Write a chunk. A chunk already written is accepted again (a retransmission);
        a gap is refused with the offset the node expects. Returns bytes received so far."""
        if self.f is None:
            raise StoreError(link.E_NO_TRANSFER, "no transfer in progress")
        if offset > self.received:
            raise StoreError(link.E_OFFSET, "expected offset %d" % self.received, self.received)
        end = offset + len(data)
        if end > self.wire:
            raise StoreError(link.E_OFFSET, "chunk ends past the announced size", self.received)
        if end > self.received:
            skip = self.received - offset
            self.f.write(data[skip:] if skip else data)
            self.received = end
        return self.received

    def commit_start(self):
        """Begin committing the received show (see commit_step). Idempotent while running."""
        if self.job is not None:
            return
        if self.f is None:
            raise StoreError(link.E_NO_TRANSFER, "no transfer in progress")
        if self.received != self.wire:
            raise StoreError(
                link.E_OFFSET,
                "transfer incomplete: %d of %d bytes" % (self.received, self.wire),
                self.received,
            )
        _sync(self.f)
        self._close()
        self.job = self._commit_job()

    def commit_step(self, blocks):
        """Do up to `blocks` blocks (512 bytes) of the commit's work, so the caller's loop keeps
        running between slices. Returns None while busy, then the live show's path."""
        if self.job is None:
            raise StoreError(link.E_NO_TRANSFER, "no transfer in progress")
        try:
            for _ in range(blocks):
                next(self.job)
        except StopIteration:
            self.job = None
            return self.path(LIVE)
        except BaseException:
            self.job = None
            raise
        return None

    def commit(self):
        """Verify the received show and make it live, all at once. Returns its path."""
        self.commit_start()
        while True:
            path = self.commit_step(1 << 20)
            if path is not None:
                return path

    def _commit_job(self):
        name = TMP
        if self.deflated:
            for _ in self._inflate_job():
                yield
            name = INF
        if not self.verifies(name) or self.content_hash(name) != self.sha:
            _remove(self.path(INF))
            self.abort()
            raise StoreError(link.E_HASH, "received show does not match its SHA-256; push it again")
        yield
        self._check_runs(name)
        self.commit_verified(name)

    def _check_runs(self, name):
        if self.check is None:
            return
        try:
            self.check(self.path(name))
        except Exception as e:  # ShowError, ValueError, KeyError...: refused, nothing changed
            _remove(self.path(INF))
            self.abort()
            raise StoreError(link.E_BAD_REQUEST, "show cannot run on this node: %s" % e)

    def candidates(self):
        """Paths of the shows to try at boot, best first: show.bin, then show.prev (each only
        if it verifies). Call boot() first: it finishes an interrupted commit."""
        return [self.path(name) for name in (LIVE, PREV) if self.verifies(name)]

    def _inflate_job(self):
        """Inflate show.tmp into show.inf a block at a time (a broken stream fails here or in
        the verification after it)."""
        try:
            with open(self.path(TMP), "rb") as fin, open(self.path(INF), "wb") as fout:
                for _ in self.inflate(fin, fout, bytearray(512)):
                    yield
                _sync(fout)
        except Exception as e:  # zlib.error, OSError(EINVAL) from deflate: bad data
            _remove(self.path(INF))
            self.abort()
            raise StoreError(link.E_HASH, "compressed show is damaged (%s); push it again" % e)

    def commit_verified(self, name=TMP):
        """Steps 2-4 of the journal (split out so tests can interrupt between them)."""
        os.rename(self.path(name), self.path(NEW))
        _remove(self.path(META))
        _remove(self.path(TMP))
        self._promote()

    def _promote(self):
        if _exists(self.path(LIVE)):
            _remove(self.path(PREV))  # some filesystems (FAT) cannot rename over a file
            os.rename(self.path(LIVE), self.path(PREV))
        os.rename(self.path(NEW), self.path(LIVE))

    def abort(self):
        self._drop_job()
        self._close()
        _remove(self.path(TMP))
        _remove(self.path(META))
        self.size, self.sha, self.wire, self.deflated, self.received = 0, None, 0, False, 0

    def _drop_job(self):
        job, self.job = self.job, None
        if job is not None:
            try:
                job.close()  # closes the files it has open
            except Exception:
                pass

    def _close(self):
        if self.f is not None:
            try:
                self.f.close()
            except OSError:
                pass
            self.f = None

    def transferring(self):
        return self.f is not None


def _meta_words(key):
    size, sha, wire, deflated = key
    return [str(size), _hex(sha), str(wire), "deflate" if deflated else "plain"]


def _hex(raw):
    return "".join("%02x" % b for b in raw)
