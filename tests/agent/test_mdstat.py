"""Software RAID from /proc/mdstat: captured files of degraded, recovering and resyncing arrays
(tests/agent/captures/README.md says where each comes from; this machine has no md arrays)."""

from __future__ import annotations

from pathlib import Path

from prometheus_client import CollectorRegistry

from agent.collectors.mdstat import MdstatCollector, parse_mdstat

CAPTURES = Path(__file__).parent / "captures" / "mdstat"


def registry_for(capture: str, tmp_path: Path) -> CollectorRegistry:
    (tmp_path / "mdstat").write_text((CAPTURES / capture).read_text())
    registry = CollectorRegistry(auto_describe=False)
    registry.register(MdstatCollector(procfs=tmp_path))
    return registry


def test_a_failed_mirror_half_is_degraded(tmp_path):
    r = registry_for("degraded_raid1.txt", tmp_path)
    get = r.get_sample_value
    assert get("regie_md_disks_required", {"device": "md1"}) == 2
    assert get("regie_md_disks", {"device": "md1", "state": "active"}) == 1
    assert get("regie_md_disks", {"device": "md1", "state": "failed"}) == 1
    assert get("regie_md_disks_missing", {"device": "md1"}) == 1
    assert get("regie_md_state", {"device": "md1", "state": "active"}) == 1
    assert get("regie_md_blocks", {"device": "md1"}) == 975585280
    # The healthy array beside it.
    assert get("regie_md_disks_missing", {"device": "md0"}) == 0
    assert get("regie_md_disks", {"device": "md0", "state": "failed"}) == 0
    assert get("regie_md_sync_completed_ratio", {"device": "md0"}) == 1


def test_recovery_resync_delayed_inactive_raid0_and_read_only(tmp_path):
    arrays = {a.device: a for a in parse_mdstat((CAPTURES / "recovering_raid5.txt").read_text())}
    assert set(arrays) == {"md2", "md3", "md4", "md127", "md5", "md6"}
    md2 = arrays["md2"]
    assert (md2.level, md2.state, md2.required, md2.active, md2.failed, md2.spare) == (
        "raid5", "recovering", 4, 3, 0, 0)
    assert (md2.sync_done, md2.sync_total) == (268595840, 976630272)
    md3 = arrays["md3"]
    assert (md3.state, md3.required, md3.active, md3.sync_done) == ("resync", 6, 6, 41260032)
    assert (arrays["md4"].state, arrays["md4"].sync_done) == ("resync", None)
    md127 = arrays["md127"]
    assert (md127.state, md127.required, md127.spare, md127.level) == ("inactive", None, 1, "")
    md5 = arrays["md5"]
    assert (md5.level, md5.state, md5.required, md5.active) == ("raid0", "active", 2, 2)
    md6 = arrays["md6"]
    assert (md6.level, md6.required, md6.active, md6.spare) == ("raid1", 2, 2, 1)

    r = registry_for("recovering_raid5.txt", tmp_path)
    get = r.get_sample_value
    assert get("regie_md_disks_missing", {"device": "md2"}) == 1
    assert get("regie_md_state", {"device": "md2", "state": "recovering"}) == 1
    assert get("regie_md_state", {"device": "md2", "state": "active"}) == 0
    assert get("regie_md_sync_completed_ratio", {"device": "md2"}) == 268595840 / 976630272
    # A delayed resync has not started: nothing done yet.
    assert get("regie_md_sync_completed_ratio", {"device": "md4"}) == 0
    # An inactive array's needs are unknown: no required/missing series, no false "degraded".
    assert get("regie_md_disks_required", {"device": "md127"}) is None
    assert get("regie_md_disks_missing", {"device": "md127"}) is None
    assert get("regie_md_state", {"device": "md127", "state": "inactive"}) == 1


def test_no_md_driver_means_empty_families(tmp_path):
    registry = CollectorRegistry(auto_describe=False)
    registry.register(MdstatCollector(procfs=tmp_path))
    families = list(registry.collect())
    assert {f.name for f in families} >= {"regie_md_state", "regie_md_disks_missing"}
    assert all(not f.samples for f in families)
