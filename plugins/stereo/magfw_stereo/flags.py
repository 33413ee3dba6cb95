"""MAGFLAGUC status bits (research note 1.5) and the spare bits magfw uses.

Bits 0-16 come from the instrument (carried through from Berkeley's file); 17-21 are set by
the L1 corrections as the public flag table describes them; 22-24 are spare bits that magfw
uses (documented choice, docs/stereo.md).
"""

from __future__ import annotations

#: 6 ms added to sync with the IDPU (the fixed IDPU -> MAG lag corrected).
LAG_FIXED = 1 << 17
#: Timestamp resync: a 1-s timestamp glitch was corrected on this record.
TIME_RESYNC = 1 << 19
#: Data-rate resync: the record's time was recomputed with the right step after mixed rates.
RATE_RESYNC = 1 << 20
#: The record was derived from 32 Hz data (a 31.25 ms stretch or a burst file, averaged).
FROM_32HZ = 1 << 21
#: magfw (spare bit): an X-sensor glitch was removed from this record (X interpolated).
X_GLITCH = 1 << 22
#: magfw (spare bit): a spike was found on this record; its field is fill.
SPIKE = 1 << 23
#: magfw (spare bit): a record of a 4 Hz normal-mode day (250 ms cadence, STEREO-A around the
#: 2014-2015 solar conjunction); the file's Time_resolution says 00:00:00.250.
FOUR_HZ = 1 << 24
