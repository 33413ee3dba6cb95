"""The on-board clock as the science packets show it: duplicated packets and clock jumps.

Packets are made every ``period`` s of on-board time (OBT, 2.048 s for 16 vectors of 128 ms)
and numbered by the 14-bit CCSDS sequence counter. In file (acquisition) order, so:

- a packet with the OBT and sequence count of an earlier one is a **duplicate** (sent twice):
  dropped and counted;
- two consecutive packets ``n`` counts apart are ``n * period`` apart in OBT, lost packets
  (telemetry gaps) included. Any other OBT difference is a **clock jump** of the difference
  (+1.25 s when packets are 3.298 s apart instead of 2.048 s); when the count itself is not
  continuous (it was reset, or the difference means a jump of more than ``MAX_JUMP_S``) the
  jump is there but its size unknown.

The packets between two jumps form one clock **segment**: the time-correlation table must be
split there (:func:`magfw_aditya.tct.segment_times`), since a table row on either side
describes a different clock. Vectorised over packets.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SEQUENCE_MODULUS = 1 << 14
#: A jump the sequence count would make larger than this is read as a counter discontinuity.
MAX_JUMP_S = 60.0
#: OBT differences within this of the expected one are no jump (OBT ticks are 1/65536 s).
JUMP_TOL_S = 1e-3


@dataclass(frozen=True, kw_only=True)
class ClockJump:
    """A jump between two consecutive packets (file order, duplicates dropped)."""

    obt_before: float  #: OBT (s) of the last packet before the jump
    obt_after: float  #: OBT (s) of the first packet after it
    jump_s: float | None  #: the jump (s); None when the sequence count cannot say
    lost_packets: int | None  #: packets never received between them; None when unknown


@dataclass(frozen=True, kw_only=True)
class PacketClock:
    """What the packet stamps say: packets kept (file order), clock segment of each kept
    packet, the jumps between segments and the number of duplicates dropped."""

    keep: np.ndarray  #: (P,) bool over the decoded packets
    segment: np.ndarray  #: (kept,) int, 0 .. len(jumps)
    jumps: tuple[ClockJump, ...]
    duplicated: int


def packet_clock(obt: np.ndarray, sequence: np.ndarray, period: float) -> PacketClock:
    """Duplicates, jumps and segments of packets with OBT ``obt`` (s) and ``sequence`` counts,
    in file order."""
    obt = np.asarray(obt, dtype=np.float64)
    seq = np.asarray(sequence, dtype=np.int64)
    keep = np.ones(obt.size, dtype=bool)
    if obt.size:
        _, first = np.unique(
            np.stack([seq, np.round(obt * 65536).astype(np.int64)], 1), axis=0, return_index=True
        )
        keep[:] = False
        keep[first] = True
    o, s = obt[keep], seq[keep]
    if o.size < 2:
        return PacketClock(
            keep=keep, segment=np.zeros(o.size, dtype=np.int64), jumps=(), duplicated=int((~keep).sum())
        )
    counts = (s[1:] - s[:-1]) % SEQUENCE_MODULUS
    jump = np.diff(o) - counts * period
    known = (counts > 0) & (np.abs(jump) <= MAX_JUMP_S)
    at = np.flatnonzero(~known | (np.abs(jump) > JUMP_TOL_S))
    jumps = tuple(
        ClockJump(
            obt_before=float(o[k]),
            obt_after=float(o[k + 1]),
            jump_s=float(jump[k]) if known[k] else None,
            lost_packets=int(counts[k]) - 1 if known[k] else None,
        )
        for k in at.tolist()
    )
    segment = np.zeros(o.size, dtype=np.int64)
    segment[at + 1] = 1
    return PacketClock(keep=keep, segment=np.cumsum(segment), jumps=jumps, duplicated=int((~keep).sum()))
