"""Parsers for the scalar values a show file holds: times, levels, cue numbers, names.

Each parser takes the plain YAML value and returns an integer (ms, raw DMX value, thousandths),
or raises `BadValue(what is wrong, what is expected)`. No floats leave this module: decimal
text is read with `Decimal` so `12.25` is exactly cue 12250 and `2.5s` exactly 2500 ms.
"""

from __future__ import annotations

import datetime
import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from cuefw import eventlog

from cuenode.show.yaml import describe, excerpt

MAX_TIME_MS = 3_600_000  # 1 h: longer fades/follows are almost surely a typo (ms given as s)
MAX_CUE = 99_999_999  # cue 99999.999 in thousandths
NAME_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,31}\Z")
TIME_PART_RE = re.compile(r"(\d+(?:\.\d+)?|\.\d+)(ms|h|m|s)")
# clock form: M:SS or H:MM:SS, seconds may have a fraction ("1:30", "0:02.5", "1:00:00")
CLOCK_RE = re.compile(r"(?:(\d+):([0-5]\d):|(\d+):)([0-5]\d(?:\.\d+)?)\Z")
BARE_FRACTION_RE = re.compile(r"\.\d+\Z")  # ".5" written as text: seconds
UNIT_MS = {"h": 3_600_000, "m": 60_000, "s": 1000, "ms": 1}
TIME_EXPECTED = 'a time like 2.5, ".5s", "500ms", "1m30s" or "1:30" (0 to 1h)'


class BadValue(Exception):
    def __init__(self, message: str, expected: str) -> None:
        super().__init__(message)
        self.message = message
        self.expected = expected


def _decimal(value: Any) -> Decimal | None:
    """An int, float or numeric text as an exact Decimal (floats via their shortest repr)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value)) if math.isfinite(value) else None
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+(\.\d+)?\s*", value):
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            return None
    return None


def parse_time_ms(value: Any, limit_ms: int = MAX_TIME_MS) -> int:
    """2.5 / "2.5" (seconds), "2.5s", "500ms", "1m30s", "1h" -> integer milliseconds."""
    number = _decimal(value)
    if number is not None:
        ms = number * 1000
    elif isinstance(value, str):
        ms = _time_text_ms(value)
    else:
        raise BadValue(f"{describe(value)} is not a time", TIME_EXPECTED)
    if ms != ms.to_integral_value():
        raise BadValue(f"{_show(value)} is finer than 1 ms", TIME_EXPECTED)
    if not 0 <= ms <= limit_ms:
        raise BadValue(f"{_show(value)} is out of range", _time_range(limit_ms))
    return int(ms)


def _time_text_ms(text: str) -> Decimal:
    compact = text.replace(" ", "")
    clock = _clock_ms(compact)
    if clock is not None:
        return clock
    parts = TIME_PART_RE.findall(compact)
    ranks = [list(UNIT_MS).index(unit) for _, unit in parts]
    # units once each, largest first: "1m30s", "1h", "2.5s", "500ms"
    if not parts or "".join(n + u for n, u in parts) != compact or ranks != sorted(set(ranks)):
        raise BadValue(f"{describe(text)} is not a time", TIME_EXPECTED)
    return sum((Decimal(n) * UNIT_MS[u] for n, u in parts), Decimal(0))


def _clock_ms(compact: str) -> Decimal | None:
    """'1:30' -> 90000, '1:02:03' -> 3723000, '0:02.5' -> 2500, '.5' -> 500; None otherwise."""
    if BARE_FRACTION_RE.match(compact):
        return Decimal(compact) * 1000
    match = CLOCK_RE.match(compact)
    if match is None:
        return None
    hours, minutes_of_hour, minutes, seconds = match.groups()
    total_minutes = int(hours) * 60 + int(minutes_of_hour) if hours else int(minutes)
    return (total_minutes * 60 + Decimal(seconds)) * 1000


def _time_range(limit_ms: int) -> str:
    return f"a time from 0 to {format_ms(limit_ms)}"


def format_ms(ms: int) -> str:
    """Milliseconds as a person writes them: 500ms, 2.5s, 1m30s, 1h."""
    if ms % 1000:
        return f"{ms}ms" if ms < 1000 else f"{Decimal(ms) / 1000}s"
    seconds = ms // 1000
    if seconds < 60:
        return f"{seconds}s"
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    minutes, rest = divmod(seconds, 60)
    return f"{minutes}m{rest}s" if rest else f"{minutes}m"


def parse_level(value: Any, max_value: int) -> int:
    """A DMX level: a whole number 0..max_value, or "NN%" (decimals allowed) of max_value."""
    if isinstance(value, str):
        key = (value, max_value)  # shows repeat the same few percentages thousands of times
        raw = _PERCENT_SEEN.get(key)
        if raw is None:
            raw = _parse_level(value, max_value)
            if len(_PERCENT_SEEN) > 10_000:
                _PERCENT_SEEN.clear()
            _PERCENT_SEEN[key] = raw
        return raw
    return _parse_level(value, max_value)


_PERCENT_SEEN: dict[tuple[str, int], int] = {}


def _parse_level(value: Any, max_value: int) -> int:
    expected = f'0 to {max_value} or a percentage like "50%"' + (
        " (16-bit parameter)" if max_value > 255 else ""
    )
    if isinstance(value, str) and value.strip().endswith("%"):
        pct = _decimal(value.strip()[:-1])
        if pct is None:
            raise BadValue(f"{describe(value)} is not a level", expected)
        if not 0 <= pct <= 100:
            raise BadValue(f"{_show(value)} is out of range", expected)
        return int((pct * max_value / 100).quantize(Decimal(1), rounding="ROUND_HALF_UP"))
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and 0 <= value <= max_value:
            raise BadValue(f"{_show(value)} is not a whole number", expected)
        raise BadValue(f"{describe(value)} is not a level", expected)
    if not 0 <= value <= max_value:
        raise BadValue(f"{_show(value)} is out of range", expected)
    return value


def parse_cue_number(value: Any) -> int:
    """1, 1.5, 12.25, "12.250" -> thousandths (1000, 1500, 12250, 12250)."""
    expected = "a cue number like 1, 1.5 or 12.25 (0.001 to 99999.999, up to 3 decimals)"
    number = _decimal(value)
    if number is None:
        raise BadValue(f"{describe(value)} is not a cue number", expected)
    thousandths = number * 1000
    if thousandths != thousandths.to_integral_value():
        raise BadValue(f"{_show(value)} has more than 3 decimals", expected)
    if not 1 <= thousandths <= MAX_CUE:
        raise BadValue(f"{_show(value)} is out of range", expected)
    return int(thousandths)


def format_cue(thousandths: int) -> str:
    """12250 -> '12.25' (the node's own formatting, so host and node agree)."""
    return eventlog.cue_text(thousandths)


def parse_int(value: Any, lo: int, hi: int, expected: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadValue(f"{describe(value)} is not a whole number", expected)
    if not lo <= value <= hi:
        raise BadValue(f"{_show(value)} is out of range", expected)
    return value


def parse_percent(value: Any, expected: str) -> int:
    """A whole percentage 1..100, written 25 or "25%"."""
    text = value.strip()[:-1] if isinstance(value, str) and value.strip().endswith("%") else value
    number = _decimal(text)
    if number is None or number != number.to_integral_value():
        raise BadValue(f"{describe(value)} is not a whole percentage", expected)
    if not 1 <= number <= 100:
        raise BadValue(f"{_show(value)} is out of range", expected)
    return int(number)


def parse_bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise BadValue(f"{describe(value)} is not true or false", "true or false")
    return value


def parse_text(value: Any, max_len: int = 120) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float | datetime.date):
        raise BadValue(f"{describe(value)} is not text", f"text of at most {max_len} characters")
    text = str(value)
    if len(text) > max_len:
        raise BadValue(
            f"text is {len(text)} characters long", f"text of at most {max_len} characters"
        )
    return text


def check_name(name: str, what: str) -> None:
    """Names of fixtures, types, parameters, nodes and relays: they appear in `a.b` keys."""
    if not NAME_RE.match(name):
        raise BadValue(
            f"{excerpt(name)} is not a valid {what} name",
            "1-32 letters, digits, '_' or '-' (no dots or spaces), not starting with '-'",
        )


def _show(value: Any) -> str:
    """A value as written, for 'X is out of range': at most 40 characters of it."""
    text = value.strip() if isinstance(value, str) else excerpt(value)
    return text if len(text) <= 40 else f"{text[:37]}... ({len(text):,} characters)"
