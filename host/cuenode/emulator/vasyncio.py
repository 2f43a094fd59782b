"""A small MicroPython-style asyncio for the emulated node, on a clock the harness can own.

The firmware imports `asyncio`; in the emulator's CPython runtime that name resolves to this
module. It implements the subset MicroPython's asyncio offers (create_task, sleep, sleep_ms,
run, Event, ThreadSafeFlag, Lock, gather, wait_for, wait_for_ms, cancel) on a scheduler whose
time comes from a `Clock`: real (monotonic) or virtual (advanced only by the test harness over
the node's world socket, so a ten-minute fade runs in a fraction of a second, exactly).

The node's own I/O (serial stream, world socket) is served by the same loop through
`add_reader`, so one thread does everything and the firmware never sees a second thread.
"""

from __future__ import annotations

import heapq
import selectors
import time
from collections import deque
from collections.abc import Callable
from typing import Any


class CancelledError(BaseException):
    pass


class TimeoutError(Exception):  # noqa: A001 - MicroPython's asyncio.TimeoutError
    pass


class Clock:
    """Node time in integer microseconds since boot. Virtual clocks move only on advance()."""

    def __init__(self, virtual: bool = False) -> None:
        self.virtual = virtual
        self._t0 = time.monotonic_ns()
        self._now = 0

    def now_us(self) -> int:
        if self.virtual:
            return self._now
        return (time.monotonic_ns() - self._t0) // 1000

    def set_virtual(self, us: int) -> None:
        self._now = max(self._now, us)


_PARK = object()  # yielded by a task that waits for someone else to reschedule it


class Task:
    __slots__ = ("coro", "done", "result", "exc", "waiters", "cancel_pending", "token", "loop")

    def __init__(self, coro: Any, loop: Loop) -> None:
        self.coro = coro
        self.loop = loop
        self.done = False
        self.result: Any = None
        self.exc: BaseException | None = None
        self.waiters: list[Task] = []
        self.cancel_pending = False
        self.token = 0  # bumped on every schedule; stale heap entries are skipped

    def cancel(self) -> bool:
        if self.done:
            return False
        self.cancel_pending = True
        self.loop._ready_task(self)
        return True

    def data(self) -> Any:
        return self.result

    def __await__(self):
        if not self.done:
            assert self.loop.current is not None, "awaited outside a task"
            self.waiters.append(self.loop.current)
            yield _PARK
        if self.exc is not None:
            raise self.exc
        return self.result


class Loop:
    """Ready queue + timer heap + selector. Time is the clock's, never read elsewhere."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.ready: deque[Any] = deque()
        self.timers: list[tuple[int, int, Any, int]] = []
        self.seq = 0
        self.current: Task | None = None
        self.selector = selectors.DefaultSelector()
        self.interrupt: BaseException | None = None  # raised out of run() at a clean point
        self.depth = 0  # nested asyncio.run() calls (firmware running)
        self.until: Task | None = None  # the task the innermost asyncio.run() waits for
        self.idle_hooks: list[Callable[[], None]] = []
        self.on_task_error: Callable[[Task, BaseException], None] | None = None

    # -- scheduling ---------------------------------------------------------------------
    def _ready_task(self, task: Task) -> None:
        task.token += 1
        self.ready.append((task, task.token))

    def call_at(self, when_us: int, item: Any) -> None:
        """Schedule a Task (or a plain callable) at node time when_us."""
        self.seq += 1
        token = 0
        if isinstance(item, Task):
            item.token += 1
            token = item.token
        heapq.heappush(self.timers, (when_us, self.seq, item, token))

    def call_soon(self, fn: Callable[[], None]) -> None:
        self.ready.append((fn, 0))

    def create_task(self, coro: Any) -> Task:
        task = Task(coro, self)
        self._ready_task(task)
        return task

    def add_reader(self, fileobj: Any, callback: Callable[[], None]) -> None:
        self.selector.register(fileobj, selectors.EVENT_READ, callback)

    def remove_reader(self, fileobj: Any) -> None:
        try:
            self.selector.unregister(fileobj)
        except (KeyError, ValueError):
            pass

    # -- running ------------------------------------------------------------------------
    def _step(self, task: Task) -> None:
        if task.done:
            return
        self.current = task
        try:
            if task.cancel_pending:
                task.cancel_pending = False
                yielded = task.coro.throw(CancelledError())
            else:
                yielded = task.coro.send(None)
        except StopIteration as stop:
            self._finish(task, stop.value, None)
        except CancelledError as exc:
            self._finish(task, None, exc)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # noqa: BLE001 - a task's failure is its result
            self._finish(task, None, exc)
            if not task.waiters:
                self.unhandled(task, exc)
        else:
            self._park(task, yielded)
        finally:
            self.current = None

    def _park(self, task: Task, yielded: Any) -> None:
        if yielded is _PARK:
            return
        if isinstance(yielded, int):
            self.call_at(yielded, task)
        else:
            self._ready_task(task)

    def _finish(self, task: Task, result: Any, exc: BaseException | None) -> None:
        task.done, task.result, task.exc = True, result, exc
        for waiter in task.waiters:
            self._ready_task(waiter)
        task.waiters = []

    def unhandled(self, task: Task, exc: BaseException) -> None:
        """A task died and nobody awaits it: the node reports it (as MicroPython does)."""
        if self.on_task_error is not None:
            self.on_task_error(task, exc)

    def _run_ready(self) -> None:
        for _ in range(len(self.ready)):
            item, token = self.ready.popleft()
            if isinstance(item, Task):
                if token == item.token:
                    self._step(item)
            else:
                item()
            self._check_interrupt()

    def _due_timers(self, limit_us: int) -> bool:
        moved = False
        while self.timers and self.timers[0][0] <= limit_us:
            when, _, item, token = heapq.heappop(self.timers)
            if self.clock.virtual:
                self.clock.set_virtual(when)
            if isinstance(item, Task):
                if token == item.token:
                    self.ready.append((item, token))
            else:
                self.ready.append((item, 0))
            moved = True
            if self.clock.virtual:
                break  # run everything due at exactly this instant before moving on
        return moved

    def _check_interrupt(self) -> None:
        if self.interrupt is not None:
            exc, self.interrupt = self.interrupt, None
            raise exc

    def _poll_io(self, timeout_s: float | None) -> None:
        for key, _ in self.selector.select(timeout_s):
            key.data()
            self._check_interrupt()

    def next_timer_us(self) -> int | None:
        while self.timers:
            when, _, item, token = self.timers[0]
            if isinstance(item, Task) and token != item.token:
                heapq.heappop(self.timers)
                continue
            return when
        return None

    def run_once(self) -> None:
        """One turn: due timers, ready work, then wait for I/O until the next timer."""
        now = self.clock.now_us()
        self._due_timers(now)
        self._run_ready()
        if self.until is not None and self.until.done:
            return  # asyncio.run()'s task has ended: do not wait for I/O first
        for hook in self.idle_hooks:
            hook()
        if self.ready:
            self._poll_io(0)
            return
        nxt = self.next_timer_us()
        timeout: float | None
        if nxt is None or self.clock.virtual:
            timeout = None if nxt is None or nxt > self.clock.now_us() else 0
        else:
            timeout = max(0, nxt - self.clock.now_us()) / 1e6
        self._poll_io(timeout)

    def advance_to(self, target_us: int) -> None:
        """Virtual time: run every timer due up to target_us in order, then stop there.

        Work already ready (a pin IRQ scheduled by a `drive` handled just before) runs first,
        at the current time: else it would run at the first timer's time, and when that is
        depends on whether the advance request arrived in the same read as the drive."""
        self._run_ready_now()
        while True:
            nxt = self.next_timer_us()
            if nxt is None or nxt > target_us:
                break
            self._due_timers(target_us)
            self._run_ready_now()
        self.clock.set_virtual(target_us)
        self._run_ready_now()

    def _run_ready_now(self, passes: int = 64) -> None:
        """Run ready work, and the work it readies, at this instant (a timeout that cancels a
        task, the task that awaited it): else that chain would only run at the next timer's
        time, later than on a chip. Bounded: a task that keeps yielding lets time move on."""
        for _ in range(passes):
            if not self.ready:
                return
            self._run_ready()

    def clear_tasks(self) -> None:
        """asyncio.run() has returned: the program's other tasks never run again."""
        self.ready = deque(e for e in self.ready if not isinstance(e[0], Task))
        self.timers = [t for t in self.timers if not isinstance(t[2], Task)]
        heapq.heapify(self.timers)

    def run_until(self, task: Task) -> Any:
        self.depth += 1
        outer, self.until = self.until, task
        try:
            while not task.done:
                self.run_once()
        finally:
            self.until = outer
            self.depth -= 1
            if self.depth == 0:
                self.clear_tasks()
        if task.exc is not None:
            raise task.exc
        return task.result

    def run_forever(self) -> None:
        while True:
            self.run_once()


# -- module-level API (MicroPython asyncio names) -----------------------------------------
_loop: Loop | None = None


def install(loop: Loop) -> None:
    global _loop
    _loop = loop


def get_event_loop() -> _LoopFacade:
    return _LoopFacade()


new_event_loop = get_event_loop


class _LoopFacade:
    def create_task(self, coro: Any) -> Task:
        return create_task(coro)

    def run_forever(self) -> None:
        assert _loop is not None
        _loop.depth += 1
        try:
            _loop.run_forever()
        finally:
            _loop.depth -= 1
            if _loop.depth == 0:
                _loop.clear_tasks()

    def run_until_complete(self, awaitable: Any) -> Any:
        return run(awaitable)

    def stop(self) -> None:
        pass

    def close(self) -> None:
        pass


def current_task() -> Task | None:
    assert _loop is not None
    return _loop.current


def create_task(coro: Any) -> Task:
    assert _loop is not None
    return _loop.create_task(coro)


def run(coro: Any) -> Any:
    assert _loop is not None
    task = coro if isinstance(coro, Task) else _loop.create_task(coro)
    return _loop.run_until(task)


class _Sleep:
    __slots__ = ("when",)

    def __init__(self, when: int) -> None:
        self.when = when

    def __await__(self):
        yield self.when


def sleep_ms(ms: int) -> _Sleep:
    assert _loop is not None
    return _Sleep(_loop.clock.now_us() + max(0, int(ms)) * 1000)


def sleep(seconds: float) -> _Sleep:
    assert _loop is not None
    return _Sleep(_loop.clock.now_us() + max(0, int(seconds * 1_000_000)))


def sleep_us(us: int) -> _Sleep:
    assert _loop is not None
    return _Sleep(_loop.clock.now_us() + max(0, int(us)))


class Event:
    def __init__(self) -> None:
        self.state = False
        self.waiting: list[Task] = []

    def is_set(self) -> bool:
        return self.state

    def set(self) -> None:
        self.state = True
        waiting, self.waiting = self.waiting, []
        for task in waiting:
            task.loop._ready_task(task)

    def clear(self) -> None:
        self.state = False

    def __await__(self):
        return self.wait().__await__()

    async def wait(self) -> bool:
        if not self.state:
            task = current_task()
            assert task is not None, "ThreadSafeFlag.wait() runs inside a task"
            self.waiting.append(task)
            await _Park()
        return True


class ThreadSafeFlag(Event):
    async def wait(self) -> bool:
        await Event.wait(self)
        self.state = False
        return True


class _Park:
    def __await__(self):
        yield _PARK


class Lock:
    def __init__(self) -> None:
        self.locked_by: Task | None = None
        self.event = Event()

    def locked(self) -> bool:
        return self.locked_by is not None

    async def acquire(self) -> bool:
        while self.locked_by is not None:
            self.event.clear()
            await self.event.wait()
        self.locked_by = current_task()
        return True

    def release(self) -> None:
        self.locked_by = None
        self.event.set()

    async def __aenter__(self) -> Lock:
        await self.acquire()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self.release()


async def gather(*aws: Any, return_exceptions: bool = False) -> list[Any]:
    tasks = [a if isinstance(a, Task) else create_task(a) for a in aws]
    results = []
    for task in tasks:
        try:
            results.append(await task)
        except Exception as exc:
            if not return_exceptions:
                raise
            results.append(exc)
    return results


async def wait_for(aw: Any, timeout: float | None) -> Any:
    task = aw if isinstance(aw, Task) else create_task(aw)
    if timeout is None:
        return await task
    assert _loop is not None
    waiter = current_task()
    fired = []

    def expire() -> None:
        if not task.done:
            fired.append(True)
            task.cancel()

    _loop.call_at(_loop.clock.now_us() + int(timeout * 1_000_000), expire)
    del waiter
    try:
        return await task
    except CancelledError:
        if fired:
            raise TimeoutError() from None
        raise


def wait_for_ms(aw: Any, timeout_ms: int) -> Any:
    return wait_for(aw, timeout_ms / 1000)
