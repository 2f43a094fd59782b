"""Human-readable node status for `cuenode status` (the JSON form is the node's own dict)."""

from __future__ import annotations

from typing import Any


def relay_text(relay: list[Any]) -> str:
    """[name, on, ms left] -> 'fog ON 7.5 s left' / 'fog off'."""
    name, on, left_ms = relay
    if not on:
        return f"{name} off"
    return f"{name} ON (no limit)" if left_ms < 0 else f"{name} ON {left_ms / 1000:.1f} s left"


def _cue_line(st: dict[str, Any]) -> str:
    cue = st.get("cue") or "-"
    nxt = st.get("next") or "-"
    fade = f"  fading {st.get('progress_pct', 0)}%" if st.get("fading") else ""
    return f"{st.get('mode', '?')}  cue {cue}  next {nxt}{fade}"


def _link_text(link: dict[str, Any]) -> str:
    errors = {k: v for k, v in link.items() if k != "frames" and v}
    detail = ", ".join(f"{k} {v}" for k, v in errors.items()) or "no errors"
    return f"{link.get('frames', 0)} frames, {detail}"


def loops_text(loops: dict[str, str] | None) -> str:
    """{"frame": "native", "go": "plain"} -> 'loops: frame native, GO plain' ('' if absent)."""
    if not loops:
        return ""
    return f"loops: frame {loops.get('frame', '?')}, GO {loops.get('go', '?')}"


def status_lines(st: dict[str, Any]) -> list[str]:
    """A few lines a crew member can read at a glance."""
    head = st.get("node") or "(no identity)"
    armed = "ARMED" if st.get("armed") else "disarmed"
    relays = ", ".join(relay_text(r) for r in st.get("relays", [])) or "none"
    show = st.get("show") or "no show"
    lines = [
        f"{head}  ({st.get('port', '?')})",
        f"  {_cue_line(st)}",
        f"  DMX {st.get('dmx_fps', '?')} fps   relays: {relays}   {armed}",
        f"  show {show} {str(st.get('show_hash', ''))[:12]}"
        + ("  (new show waiting for the fade to end)" if st.get("pending_show") else ""),
        f"  firmware {st.get('fw_version', '?')} on {st.get('board', '?')}, "
        f"up {st.get('uptime_s', '?')} s, link: {_link_text(st.get('link', {}))}",
    ]
    if st.get("loops"):
        lines[-1] += f", {loops_text(st['loops'])}"
    if st.get("load_error"):
        lines.append(f"  show not loaded: {st['load_error']}")
    if st.get("skipped"):
        lines.append(f"  the last cue skipped: {', '.join(st['skipped'])} (ARM to allow)")
    return lines
