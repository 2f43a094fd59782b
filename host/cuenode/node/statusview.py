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


# --- tables: `cuenode status --watch` and `cuenode nodes` -----------------------------------


def table(header: list[str], rows: list[list[str]]) -> str:
    """Plain aligned columns (no box drawing: readable in any terminal and in a log file)."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
        for r in [header, *rows]
    ]
    return "\n".join(lines)


WATCH_HEADER = ["NODE", "PORT", "MODE", "CUE", "NEXT", "FADE", "DMX", "RELAYS", "ARMED", "LINK"]


def _watch_row(st: dict[str, Any]) -> list[str]:
    if not st.get("ok", True):
        return [
            st.get("node") or "?",
            st.get("port", "?"),
            "NOT ANSWERING",
            "",
            "",
            "",
            "",
            "",
            "",
            st.get("error", "")[:60],
        ]
    on = [relay_text(r) for r in st.get("relays", []) if r[1]]
    link = {k: v for k, v in st.get("link", {}).items() if k != "frames" and v}
    return [
        st.get("node") or "-",
        st.get("port", "?"),
        st.get("mode", "?") + (" (new show waiting)" if st.get("pending_show") else ""),
        st.get("cue") or "-",
        st.get("next") or "-",
        f"{st.get('progress_pct', 0)}%" if st.get("fading") else "",
        f"{st.get('dmx_fps', '?')} fps",
        ", ".join(on) or "off",
        "ARMED" if st.get("armed") else "-",
        ", ".join(f"{k} {v}" for k, v in link.items()) or "ok",
    ]


def watch_table(entries: list[dict[str, Any]]) -> str:
    """One row per node: `status --watch` (a node that did not answer says so in its row)."""
    return table(WATCH_HEADER, [_watch_row(st) for st in entries])


NODES_HEADER = ["PORT", "NODE", "RIG NAME", "BOARD", "FIRMWARE", "SHOW", "ANSWER"]


def nodes_table(entries: list[dict[str, Any]]) -> str:
    """`cuenode nodes`: what is attached, one row per port."""
    rows = [
        [
            e["port"],
            e.get("node") or "-",
            e.get("rig_name") or "-",
            e.get("board") or "-",
            e.get("firmware") or "-",
            (e.get("show") or "-") + (f" {e['show_hash'][:8]}" if e.get("show_hash") else ""),
            "ok" + (" (via console)" if e.get("via_console") else "")
            if e["ok"]
            else e["error"][:70],
        ]
        for e in entries
    ]
    return table(NODES_HEADER, rows)
