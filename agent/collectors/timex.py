"""The kernel's clock discipline, read with adjtimex(2) as node_exporter's `timex` collector does.

adjtimex() with `modes = 0` only reads: offset, maximum and estimated error, frequency
adjustment and the status word the NTP daemon (chrony, ntpd, systemd-timesyncd) maintains.
Its return value is the clock state; TIME_ERROR (5) means the clock is not synchronised
(STA_UNSYNC set, or a PPS signal lost). Called through ctypes on libc: no dependency.

`struct timex` (<sys/timex.h>) is a run of C `long`s and `int`s; ctypes applies the platform's
natural alignment, which gives the kernel's layout on LP64 (x86_64, aarch64: 208 bytes) and
ILP32 alike. The trailing 11 ints are the kernel's reserved padding.
"""

from __future__ import annotations

import ctypes
import functools
import os
from collections.abc import Callable, Iterable

from prometheus_client.metrics_core import GaugeMetricFamily, Metric

TIME_ERROR = 5
STA_NANO = 0x2000   # offset in nanoseconds instead of microseconds
PPM16 = 65536 * 1e6  # `freq` is in ppm with a 16-bit fraction ("scaled ppm")


class _Timeval(ctypes.Structure):
    _fields_ = (("tv_sec", ctypes.c_long), ("tv_usec", ctypes.c_long))


class Timex(ctypes.Structure):
    _fields_ = (
        ("modes", ctypes.c_uint), ("offset", ctypes.c_long), ("freq", ctypes.c_long),
        ("maxerror", ctypes.c_long), ("esterror", ctypes.c_long), ("status", ctypes.c_int),
        ("constant", ctypes.c_long), ("precision", ctypes.c_long),
        ("tolerance", ctypes.c_long), ("time", _Timeval), ("tick", ctypes.c_long),
        ("ppsfreq", ctypes.c_long), ("jitter", ctypes.c_long), ("shift", ctypes.c_int),
        ("stabil", ctypes.c_long), ("jitcnt", ctypes.c_long), ("calcnt", ctypes.c_long),
        ("errcnt", ctypes.c_long), ("stbcnt", ctypes.c_long), ("tai", ctypes.c_int),
        ("_reserved", ctypes.c_int * 11),
    )


@functools.cache
def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def read_adjtimex() -> tuple[int, Timex]:
    """(clock state, timex) from a read-only adjtimex(2); OSError when the call fails."""
    libc = _libc()
    timex = Timex()  # modes = 0: read, change nothing
    state = libc.adjtimex(ctypes.byref(timex))
    if state < 0:
        errno = ctypes.get_errno()
        raise OSError(errno, os.strerror(errno))
    return state, timex


class TimexCollector:
    name = "timex"

    def __init__(self, read: Callable[[], tuple[int, Timex]] = read_adjtimex) -> None:
        self._read = read

    def collect(self) -> Iterable[Metric]:
        state, t = self._read()
        offset_unit = 1e9 if t.status & STA_NANO else 1e6
        yield GaugeMetricFamily(
            "regie_timex_sync_status",
            "1 when the kernel clock is synchronised to a reliable source (adjtimex state is "
            "not TIME_ERROR), 0 when not.", value=0 if state == TIME_ERROR else 1)
        yield GaugeMetricFamily("regie_timex_offset_seconds",
                                "Time offset between the local clock and its reference.",
                                value=t.offset / offset_unit)
        yield GaugeMetricFamily("regie_timex_maxerror_seconds",
                                "Maximum error bound of the clock.", value=t.maxerror / 1e6)
        yield GaugeMetricFamily("regie_timex_estimated_error_seconds",
                                "Estimated error of the clock.", value=t.esterror / 1e6)
        yield GaugeMetricFamily("regie_timex_frequency_adjustment_ratio",
                                "Local clock frequency adjustment (1 = none).",
                                value=1 + t.freq / PPM16)
        yield GaugeMetricFamily("regie_timex_status",
                                "The kernel's clock status word (STA_* bits).", value=t.status)
        yield GaugeMetricFamily("regie_timex_tai_offset_seconds",
                                "International Atomic Time offset from UTC.", value=t.tai)
