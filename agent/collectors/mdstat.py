"""Linux software RAID (md) arrays from /proc/mdstat.

The format is the kernel's (drivers/md/md.c `md_seq_show`; Documentation/admin-guide/md.rst)::

    md1 : active raid1 sdb2[1](F) sda2[0]
          975585280 blocks super 1.2 [2/1] [U_]
    md2 : active raid5 sdf1[4] sde1[2] sdd1[1] sdc1[0]
          2929890816 blocks super 1.2 level 5, 512k chunk, algorithm 2 [4/3] [UUU_]
          [=====>...............]  recovery = 27.5% (268595840/976630272) finish=101.3min ...

A member's flag says what it is: (F) failed, (S) spare; `[n/m]` is the devices the array needs
and those working. An array with fewer working devices than it needs is degraded: one more
failure (for raid1/5) loses it. Hosts without md have no /proc/mdstat (the md module is not
loaded): the families are then empty.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from prometheus_client.metrics_core import GaugeMetricFamily, Metric

# What the array is doing; `active` and `inactive` unless a sync action runs.
STATES = ("active", "inactive", "resync", "recovering", "check", "reshape")
_SYNC_ACTIONS = {"resync": "resync", "recovery": "recovering", "check": "check",
                 "reshape": "reshape", "repair": "check"}

_HEADER = re.compile(r"^(?P<device>md\S*) : (?P<rest>.*)$")
_MEMBER = re.compile(r"^(?P<name>\S+)\[\d+\](?P<flags>(?:\([A-Z]\))*)$")
_COUNTS = re.compile(r"\[(?P<required>\d+)/(?P<working>\d+)\]")
_BLOCKS = re.compile(r"^\s*(?P<blocks>\d+) blocks")
_PROGRESS = re.compile(r"(?P<action>resync|recovery|check|reshape|repair)\s*=\s*[\d.]+%\s*"
                       r"\((?P<done>\d+)/(?P<total>\d+)\)")
_DELAYED = re.compile(r"(?P<action>resync|recovery|check|reshape|repair)\s*=\s*"
                      r"(?:DELAYED|PENDING)")


@dataclass(frozen=True, slots=True)
class MdArray:
    device: str
    level: str
    state: str
    required: int | None          # None: not known (inactive arrays print no [n/m])
    active: int
    failed: int
    spare: int
    blocks: int
    sync_done: int | None = None   # blocks synced so far while a sync action runs
    sync_total: int | None = None


def parse_mdstat(text: str) -> list[MdArray]:
    arrays: list[MdArray] = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        header = _HEADER.match(line)
        if not header:
            continue
        words = header["rest"].split()
        activity = words.pop(0) if words else "inactive"
        while words and words[0].startswith("("):  # (auto-read-only), (read-only)
            words.pop(0)
        level = words.pop(0) if words and activity == "active" else ""
        members = [m for m in (_MEMBER.match(w) for w in words) if m]
        failed = sum("(F)" in m["flags"] for m in members)
        spare = sum("(S)" in m["flags"] for m in members)
        # The detail lines: up to the next blank line or array.
        detail = []
        for more in lines[i + 1:]:
            if not more.strip() or _HEADER.match(more):
                break
            detail.append(more)
        body = "\n".join(detail)
        counts = _COUNTS.search(body)
        blocks = _BLOCKS.search(detail[0]) if detail else None
        if counts:
            required, active = int(counts["required"]), int(counts["working"])
        elif activity == "active":  # raid0, linear: every member is needed, none spare
            required = active = len(members) - failed - spare
        else:
            required, active = None, 0
        state = activity if activity in ("active", "inactive") else "active"
        done = total = None
        progress = _PROGRESS.search(body)
        if progress:
            state = _SYNC_ACTIONS[progress["action"]]
            done, total = int(progress["done"]), int(progress["total"])
        elif (delayed := _DELAYED.search(body)):
            state = _SYNC_ACTIONS[delayed["action"]]
        arrays.append(MdArray(
            device=header["device"], level=level, state=state, required=required,
            active=active, failed=failed, spare=spare,
            blocks=int(blocks["blocks"]) if blocks else 0, sync_done=done, sync_total=total,
        ))
    return arrays


class MdstatCollector:
    name = "mdstat"

    def __init__(self, procfs: Path = Path("/proc")) -> None:
        self._path = procfs / "mdstat"

    def collect(self) -> Iterable[Metric]:
        state = GaugeMetricFamily("regie_md_state",
                                  "1 for the array's current state (active, inactive, resync, "
                                  "recovering, check, reshape).", labels=["device", "state"])
        disks = GaugeMetricFamily("regie_md_disks", "Member devices by state (active: working "
                                  "in the array; failed; spare).", labels=["device", "state"])
        required = GaugeMetricFamily("regie_md_disks_required",
                                     "Devices the array needs to be whole.", labels=["device"])
        missing = GaugeMetricFamily("regie_md_disks_missing",
                                    "Devices the array needs but lacks (> 0: degraded).",
                                    labels=["device"])
        blocks = GaugeMetricFamily("regie_md_blocks", "Size of the array in 1 KiB blocks.",
                                   labels=["device"])
        synced = GaugeMetricFamily("regie_md_sync_completed_ratio",
                                   "Progress of the running resync, recovery, check or reshape "
                                   "(1 when none runs).", labels=["device"])
        try:
            text = self._path.read_text()
        except FileNotFoundError:
            text = ""  # no md driver loaded
        for array in parse_mdstat(text):
            device = array.device
            for name in STATES:
                state.add_metric([device, name], 1 if name == array.state else 0)
            disks.add_metric([device, "active"], array.active)
            disks.add_metric([device, "failed"], array.failed)
            disks.add_metric([device, "spare"], array.spare)
            if array.required is not None:
                required.add_metric([device], array.required)
                missing.add_metric([device], max(0, array.required - array.active))
            blocks.add_metric([device], array.blocks)
            if array.sync_done is not None and array.sync_total:
                ratio = array.sync_done / array.sync_total
            else:  # no sync running, or one DELAYED/PENDING that has not started
                ratio = 1.0 if array.state in ("active", "inactive") else 0.0
            synced.add_metric([device], ratio)
        yield from (state, disks, required, missing, blocks, synced)
