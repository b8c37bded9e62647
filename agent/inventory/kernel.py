"""The running kernel, as uname(2) reports it."""

from __future__ import annotations

import os

from agent.inventory.reading import Context, Reading


def read_kernel(ctx: Context) -> Reading:
    uname = os.uname()
    value = {"release": uname.release, "version": uname.version, "machine": uname.machine}
    # The registry matches the kernel on `uname -r` alone (e.g. "6.1.0-18-amd64").
    return Reading(value, ({"source": "kernel", "raw": {"release": uname.release}},))
