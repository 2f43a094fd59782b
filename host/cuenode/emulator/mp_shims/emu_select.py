# select for the firmware under the MicroPython WebAssembly runtime (mpnode.mjs installs it as
# sys.modules['select']): poll() also takes emu_sys's stdin and stdin.buffer (the port's poll
# cannot, they are Python objects), readable while the host's receive queue has bytes. Other
# objects go to the port's own poll. A timeout other than 0 is not waited for on stdin (the JS
# event loop cannot block inside Python): poll answers at once.
import select as _port
from select import POLLERR, POLLHUP, POLLIN, POLLOUT  # noqa: F401


class _Poll:
    def __init__(self):
        self.objs = []
        self.port = _port.poll()
        self.on_port = 0  # objects registered with the port's poll

    def register(self, obj, flags=POLLIN | POLLOUT):
        if hasattr(obj, "any"):
            self.unregister(obj)
            self.objs.append((obj, flags))
        else:
            self.port.register(obj, flags)
            self.on_port += 1

    def unregister(self, obj):
        self.objs = [(o, f) for o, f in self.objs if o is not obj]

    def poll(self, timeout=-1):
        ready = [(o, POLLIN) for o, f in self.objs if f & POLLIN and o.any()]
        ready += [(o, POLLOUT) for o, f in self.objs if f & POLLOUT]
        if self.on_port:
            ready += self.port.poll(0 if ready else timeout)
        return ready

    ipoll = poll


def poll():
    return _Poll()
