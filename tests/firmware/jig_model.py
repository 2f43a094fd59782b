# A cycle-by-cycle model of the HIL jig's PIO receiver (firmware/jig/jigdmx.py, dmx_rx), to
# make the words the chip would push for any line. The program is transcribed here (the chip
# module imports rp2); tests/test_jig_host.py checks this transcription against jigdmx.py.
# Each instruction takes 1 + delay cycles and reads the line at its first cycle.
MASK = 0xFFFFFFFF

PROGRAM = [  # (label or None, op, arg, delay), wrap_target at 0, wrap after the last
    ("idle", "mov_x_ones", None, 0),
    ("high", "jmp_pin", "stay", 0),
    (None, "jmp", "start", 0),
    ("stay", "jmp_x_dec", "high", 0),
    ("start", "in_x", 23, 31),
    (None, "set_y", 7, 12),
    ("bits", "in_pins", 1, 30),
    (None, "jmp_y_dec", "bits", 0),
    (None, "jmp_pin", "good", 0),
    (None, "in_null", 1, 0),
    (None, "push", None, 0),
    (None, "mov_x_ones", None, 0),
    ("low", "jmp_pin", "rose", 0),
    (None, "jmp_x_dec", "low", 0),
    ("rose", "mov_isr_x", None, 0),
    (None, "push", None, 0),
    (None, "jmp", "idle", 0),
    ("good", "in_y", 1, 0),
    (None, "push", None, 0),
]
LABELS = {}
for _i, _ins in enumerate(PROGRAM):
    if _ins[0]:
        LABELS[_ins[0]] = _i


def line(packets, idle_us=50, bit_us=4):
    """Edges (t_us, level) of packets given as (break_us, mab_us, slots, gap_us), after
    idle_us of mark; each packet follows the previous one's last slot after idle_us."""
    edges = []
    t = idle_us
    for brk, mab, slots, gap in packets:
        edges.append((t, 0))
        t += brk
        edges.append((t, 1))
        t += mab
        for value in slots:
            stop = 1
            if isinstance(value, tuple):  # (value, first stop bit): a framing error if 0
                value, stop = value
            bits = [0] + [(value >> i) & 1 for i in range(8)] + [stop, 1]
            for bit in bits:
                edges.append((t, bit))
                t += bit_us
            t += gap
        t += idle_us
    return _changes(edges), t


def _changes(edges):
    out = []
    level = 1
    for t, lv in edges:
        if lv != level:
            out.append((t, lv))
            level = lv
    return out


def run(edges, end_us, start_us=0.0, cycles_per_us=8):
    """The words dmx_rx pushes for the line `edges`, its machine started at start_us."""
    words = []
    pc = 0
    x = y = isr = 0
    cycle = 0
    end = int((end_us - start_us) * cycles_per_us)
    k = 0
    level = 1
    while cycle < end:
        t = start_us + cycle / cycles_per_us
        while k < len(edges) and edges[k][0] <= t:
            level = edges[k][1]
            k += 1
        _, op, arg, delay = PROGRAM[pc]
        pc += 1
        if op == "mov_x_ones":
            x = MASK
        elif op == "jmp_pin":
            if level:
                pc = LABELS[arg]
        elif op == "jmp":
            pc = LABELS[arg]
        elif op == "jmp_x_dec":
            if x:
                pc = LABELS[arg]
            x = (x - 1) & MASK
        elif op == "jmp_y_dec":
            if y:
                pc = LABELS[arg]
            y = (y - 1) & MASK
        elif op == "in_x":
            isr = (isr >> arg) | ((x & ((1 << arg) - 1)) << (32 - arg))
        elif op == "in_pins":
            isr = (isr >> 1) | (level << 31)
        elif op == "in_null":
            isr >>= 1
        elif op == "in_y":
            isr = (isr >> 1) | ((y & 1) << 31)
        elif op == "set_y":
            y = arg
        elif op == "mov_isr_x":
            isr = x
        elif op == "push":
            words.append(isr)
            isr = 0
        if pc >= len(PROGRAM):
            pc = 0
        cycle += 1 + delay
    return words


def to_bytes(words):
    out = bytearray()
    for w in words:
        out.extend(bytes([w & 0xFF, (w >> 8) & 0xFF, (w >> 16) & 0xFF, (w >> 24) & 0xFF]))
    return out
