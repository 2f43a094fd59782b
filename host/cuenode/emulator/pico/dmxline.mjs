// Reads DMX512 packets back off a pin's edges (simulated ns), as a receiver on the line
// would: a low of >= 88 us is a break; then each falling edge starts a slot whose bits are
// sampled in their middle at 250 kbaud. Only for the world socket's frames (live view,
// last_frame); captures are written from the raw edges and decoded by sigrok instead.
const BIT_NS = 4000;
const BREAK_MIN_NS = 88_000;

export class DmxReader {
  constructor(onFrame) {
    this.onFrame = onFrame;
    this.level = 1;
    this.lowSince = 0;
    this.packet = null; // { breakAt, breakNs, mabAt, edges: [[t, level], ...] }
    this.lastEdge = 0;
    this.seq = 0;
  }

  edge(t, level) {
    if (level === this.level) return;
    this.level = level;
    this.lastEdge = t;
    if (level === 0) {
      this.lowSince = t;
      this.packet?.edges.push([t, 0]);
      return;
    }
    const low = t - this.lowSince;
    if (low >= BREAK_MIN_NS) {
      if (this.packet) this.packet.edges.pop(); // that falling edge began this break
      this.finish();
      this.packet = { breakAt: this.lowSince, breakNs: low, mabAt: t, edges: [] };
    } else {
      this.packet?.edges.push([t, 1]);
    }
  }

  // No edge for a while after a packet (simulated ns now): it has ended.
  idle(now) {
    if (this.packet && this.level === 1 && now - this.lastEdge > 12 * BIT_NS) this.finish();
  }

  finish() {
    const packet = this.packet;
    this.packet = null;
    if (!packet || packet.edges.length === 0) return;
    const { starts, bytes } = slots(packet.edges);
    const spacing = starts.length > 1 ? (starts.at(-1) - starts[0]) / (starts.length - 1) : 11 * BIT_NS;
    this.seq += 1;
    this.onFrame({
      seq: this.seq,
      t_us: Math.round(packet.breakAt / 1000),
      break_us: Math.round(packet.breakNs / 1000),
      mab_us: Math.round((packet.edges[0][0] - packet.mabAt) / 1000),
      slot_us: Math.round(spacing / 1000),
      data: Uint8Array.from(bytes),
    });
  }
}

function slots(edges) {
  const starts = [], bytes = [];
  let k = 0;
  while (k < edges.length) {
    if (edges[k][1] !== 0) {
      k += 1;
      continue;
    }
    const t0 = edges[k][0];
    let j = k;
    const levelAt = (t) => {
      while (j + 1 < edges.length && edges[j + 1][0] <= t) j += 1;
      return edges[j][1];
    };
    let byte = 0;
    for (let bit = 0; bit < 8; bit++) if (levelAt(t0 + (bit + 1.5) * BIT_NS)) byte |= 1 << bit;
    starts.push(t0);
    bytes.push(byte);
    const earliestNext = t0 + 9.5 * BIT_NS; // a slot's start bit follows its stop bits
    while (k < edges.length && (edges[k][1] !== 0 || edges[k][0] < earliestNext)) k += 1;
  }
  return { starts, bytes };
}
