# Crash-safe show storage on the node's filesystem (littlefs on a board, a directory in the
# emulator). Pure: takes the directory and the os module's functions, reads no clock.
#
# Files in `root`:
#   show.bin   the live show
#   show.prev  the previous live show (the fallback)
#   show.tmp   an incoming transfer, written chunk by chunk
#   show.meta  what show.tmp is meant to become: "<size> <sha256 hex>" (for resuming)
#   show.new   a transfer that verified and was committed, waiting to become show.bin
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


class Store:
    """Show files under `root`. `sha256` is the hash constructor (hashlib.sha256)."""

    def __init__(self, root, sha256, max_size=1 << 20):
        self.root = root.rstrip("/") if len(root) > 1 else root
        self.sha256 = sha256
        self.max_size = max_size
        self.f = None  # the open show.tmp during a transfer
        self.size = 0  # announced size of the transfer
        self.sha = None  # announced content hash of the transfer
        self.received = 0  # contiguous bytes written so far

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

    def begin(self, size, sha):
        """Start (or resume) receiving a show of `size` bytes whose trailing hash is `sha`.

        Returns the offset to send from: 0, or how much of the same show is already here."""
        if size > self.max_size:
            raise StoreError(
                link.E_TOO_LARGE,
                "show is %d bytes, this node holds at most %d" % (size, self.max_size),
            )
        sha = bytes(sha)
        if self.f is not None and self.sha == sha and self.size == size:
            return self.received
        self._close()
        resume = self._resumable(size, sha)
        self.f = open(self.path(TMP), "r+b" if resume else "wb")
        if resume:
            self.f.seek(resume)
        else:
            self._write_meta(size, sha)
        self.size, self.sha, self.received = size, sha, resume
        return resume

    def _resumable(self, size, sha):
        """Bytes of show.tmp that belong to the same transfer (0 if it is another show)."""
        try:
            with open(self.path(META)) as f:
                words = f.read().split()
        except OSError:
            return 0
        if len(words) != 2 or words[0] != str(size) or words[1] != _hex(sha):
            return 0
        have = _size(self.path(TMP))
        return min(have, size) if have > 0 else 0

    def _write_meta(self, size, sha):
        with open(self.path(META), "w") as f:
            f.write("%d %s\n" % (size, _hex(sha)))
            _sync(f)

    def write(self, offset, data):
        """Write a chunk. A chunk already written is accepted again (a retransmission);
        a gap is refused with the offset the node expects. Returns bytes received so far."""
        if self.f is None:
            raise StoreError(link.E_NO_TRANSFER, "no transfer in progress")
        if offset > self.received:
            raise StoreError(link.E_OFFSET, "expected offset %d" % self.received, self.received)
        end = offset + len(data)
        if end > self.size:
            raise StoreError(link.E_OFFSET, "chunk ends past the announced size", self.received)
        if end > self.received:
            skip = self.received - offset
            self.f.write(data[skip:] if skip else data)
            self.received = end
        return self.received

    def commit(self):
        """Verify the received show and make it live. Returns its path."""
        if self.f is None:
            raise StoreError(link.E_NO_TRANSFER, "no transfer in progress")
        if self.received != self.size:
            raise StoreError(
                link.E_OFFSET,
                "transfer incomplete: %d of %d bytes" % (self.received, self.size),
                self.received,
            )
        _sync(self.f)
        self._close()
        if not self.verifies(TMP) or self.content_hash(TMP) != self.sha:
            self.abort()
            raise StoreError(link.E_HASH, "received show does not match its SHA-256; push it again")
        self.commit_verified()
        return self.path(LIVE)

    def commit_verified(self):
        """Steps 2-4 of the journal (split out so tests can interrupt between them)."""
        os.rename(self.path(TMP), self.path(NEW))
        _remove(self.path(META))
        self._promote()

    def _promote(self):
        if _exists(self.path(LIVE)):
            _remove(self.path(PREV))  # some filesystems (FAT) cannot rename over a file
            os.rename(self.path(LIVE), self.path(PREV))
        os.rename(self.path(NEW), self.path(LIVE))

    def abort(self):
        self._close()
        _remove(self.path(TMP))
        _remove(self.path(META))
        self.size, self.sha, self.received = 0, None, 0

    def _close(self):
        if self.f is not None:
            try:
                self.f.close()
            except OSError:
                pass
            self.f = None

    def transferring(self):
        return self.f is not None


def _hex(raw):
    return "".join("%02x" % b for b in raw)
