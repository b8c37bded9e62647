"""The disk spool: real files in a temporary directory, nothing faked unless a test says so."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agent import spool as spool_module
from agent.spool import (
    HEADER,
    MAGIC,
    RecordTooLarge,
    Spool,
    SpoolClosed,
    SpoolLocked,
    encode_record,
    scan_segment,
)


def payload(i: int, size: int = 100) -> bytes:
    head = f"record-{i:06d}:".encode()
    return head + bytes([i % 251]) * (size - len(head))


def drain(spool: Spool) -> list[bytes]:
    out = []
    while (item := spool.peek()) is not None:
        out.append(item)
        spool.ack()
    return out


def segments(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.seg"))


# -- scan_segment: pure, on bytes --------------------------------------------------------------

A, B, C = encode_record(0, b"alpha"), encode_record(1, b"bravo" * 50), encode_record(2, b"c")


@pytest.mark.parametrize(("data", "sequences", "corrupt", "end"), [
    (b"", [], 0, 0),
    (A + B + C, [0, 1, 2], 0, len(A + B + C)),
    # torn tails: any prefix of the last record
    (A + B + C[:1], [0, 1], 0, len(A + B)),
    (A + B + C[:HEADER.size], [0, 1], 0, len(A + B)),
    (A + B[:-1], [0], 0, len(A)),
    # a flipped payload byte in the middle record: skipped, counted, the next one survives
    (A + B[:30] + bytes([B[30] ^ 0xFF]) + B[31:] + C, [0, 2], 1, len(A + B + C)),
    # garbage (with a stray magic) between records
    (A + b"\x00junk" + MAGIC + b"\xff" * 40 + B + C, [0, 1, 2], 1, None),
    # garbage at the very start
    (b"garbage" + A, [0], 1, None),
    # a duplicate sequence number is not accepted twice
    (A + A + B, [0, 1], 1, None),
])
def test_scan_segment(data: bytes, sequences: list[int], corrupt: int, end: int | None) -> None:
    """Pure: indexing one segment's bytes."""
    scan = scan_segment(data)
    assert [r.sequence for r in scan.records] == sequences
    assert scan.corrupt == corrupt
    assert scan.end == (len(data) if end is None else end)


# -- the Spool on disk -------------------------------------------------------------------------

def test_append_peek_ack_in_order(tmp_path: Path) -> None:
    """Real files: FIFO order, peek is repeatable until ack, ack needs a peek."""
    with Spool(tmp_path, 1 << 20) as spool:
        assert spool.peek() is None and len(spool) == 0
        with pytest.raises(RuntimeError):
            spool.ack()
        assert [spool.append(payload(i)) for i in range(5)] == [0, 1, 2, 3, 4]
        assert len(spool) == 5
        assert spool.peek() == payload(0)
        assert spool.peek() == payload(0)
        spool.ack()
        assert drain(spool) == [payload(i) for i in range(1, 5)]
        assert len(spool) == 0
        assert segments(tmp_path) == []  # fully delivered segments are deleted


def test_reopen_keeps_state(tmp_path: Path) -> None:
    """Real files across close/open: delivered records are not repeated, undelivered ones not
    lost, and sequence numbers continue."""
    with Spool(tmp_path, 1 << 20) as spool:
        for i in range(5):
            spool.append(payload(i))
        spool.peek()
        spool.ack()
        spool.peek()
        spool.ack()
    assert (tmp_path / "position").read_text() == "2\n"
    assert not (tmp_path / "position.tmp").exists()
    with Spool(tmp_path, 1 << 20) as spool:
        assert len(spool) == 3
        assert spool.append(payload(5)) == 5
        assert drain(spool) == [payload(i) for i in range(2, 6)]
    with Spool(tmp_path, 1 << 20) as spool:
        assert len(spool) == 0 and spool.peek() is None
        assert spool.append(payload(6)) == 6  # the position keeps the numbering going


def test_bound_drops_oldest_and_counts(tmp_path: Path) -> None:
    """Real files: a spool of four one-record segments keeps the newest four."""
    size = len(encode_record(0, payload(0)))
    with Spool(tmp_path, 4 * size, segment_bytes=size) as spool:
        for i in range(10):
            spool.append(payload(i))
            assert spool.size_bytes <= 4 * size
        assert spool.dropped == 6
        assert len(spool) == 4
        assert drain(spool) == [payload(i) for i in range(6, 10)]


def test_bound_with_default_segments(tmp_path: Path) -> None:
    """Real files, default segment size: what remains is always the newest records, in
    order, within the bound, and every record is either kept or counted as dropped."""
    max_bytes = 256 * 1024
    with Spool(tmp_path, max_bytes) as spool:
        for i in range(400):
            spool.append(payload(i, size=1000 + (i * 37) % 3000))
            assert spool.size_bytes <= max_bytes
        kept = drain(spool)
        assert spool.dropped + len(kept) == 400
        assert kept == [payload(i, size=1000 + (i * 37) % 3000) for i in range(spool.dropped, 400)]
        assert spool.dropped > 0


def test_ack_after_the_peeked_record_was_dropped(tmp_path: Path) -> None:
    """Real files: an append that drops the peeked record between peek and ack."""
    size = len(encode_record(0, payload(0)))
    with Spool(tmp_path, 2 * size, segment_bytes=size) as spool:
        spool.append(payload(0))
        spool.append(payload(1))
        assert spool.peek() == payload(0)
        spool.append(payload(2))  # drops record 0
        spool.ack()
        assert drain(spool) == [payload(1), payload(2)]


def test_record_larger_than_the_spool(tmp_path: Path) -> None:
    with Spool(tmp_path, 1000) as spool, pytest.raises(RecordTooLarge):
        spool.append(b"x" * 1000)


@pytest.mark.parametrize("cut", [1, HEADER.size - 1, HEADER.size, HEADER.size + 1, 500, -1],
                         ids=["1-byte", "header-1", "header", "header+1", "middle", "last-1"])
def test_torn_tail_is_truncated(tmp_path: Path, cut: int) -> None:
    """Simulates a write cut short by kill -9 byte-exactly: the last segment is truncated at an
    offset inside its last record (real files; the truncation stands in for the kill).
    On open every complete record survives, the torn bytes are removed, appends continue."""
    with Spool(tmp_path, 1 << 20) as spool:
        for i in range(4):
            spool.append(payload(i, size=1000))
    (segment,) = segments(tmp_path)
    record = len(encode_record(3, payload(3, size=1000)))
    complete = segment.stat().st_size - record
    with open(segment, "r+b") as f:
        f.truncate(complete + (cut if cut > 0 else record + cut))
    with Spool(tmp_path, 1 << 20) as spool:
        assert segment.stat().st_size == complete
        assert len(spool) == 3 and spool.corrupt == 0
        spool.append(payload(99))
    with Spool(tmp_path, 1 << 20) as spool:
        assert spool.corrupt == 0
        assert drain(spool) == [payload(0, 1000), payload(1, 1000), payload(2, 1000),
                                payload(99)]


def test_corrupt_record_in_the_middle_is_skipped(tmp_path: Path) -> None:
    """Real files with one byte flipped inside the second record's payload (bit rot):
    the record is skipped and counted; the ones around it are delivered."""
    with Spool(tmp_path, 1 << 20) as spool:
        for i in range(3):
            spool.append(payload(i))
    (segment,) = segments(tmp_path)
    data = bytearray(segment.read_bytes())
    record = len(encode_record(0, payload(0)))
    data[record + HEADER.size + 10] ^= 0xFF
    segment.write_bytes(bytes(data))
    with Spool(tmp_path, 1 << 20) as spool:
        assert spool.corrupt == 1
        assert drain(spool) == [payload(0), payload(2)]


def test_garbage_between_segments_and_records(tmp_path: Path) -> None:
    """Real files: junk bytes appended to a finished (not last) segment and a corrupted header
    in the last one; nothing crashes, every intact record is delivered in order."""
    size = len(encode_record(0, payload(0)))
    with Spool(tmp_path, 1 << 20, segment_bytes=2 * size) as spool:
        for i in range(6):
            spool.append(payload(i))
    first, _, last = segments(tmp_path)
    with open(first, "ab") as f:
        f.write(b"\x00\xffjunk" + MAGIC + b"\x01\x02")
    data = bytearray(last.read_bytes())
    data[5] ^= 0x55  # length field of record 4
    last.write_bytes(bytes(data))
    with Spool(tmp_path, 1 << 20) as spool:
        assert spool.corrupt == 2
        assert drain(spool) == [payload(i) for i in (0, 1, 2, 3, 5)]


def test_corruption_after_open_is_skipped_on_read(tmp_path: Path) -> None:
    """Real files damaged while the spool is open: peek() re-checks the CRC and skips."""
    with Spool(tmp_path, 1 << 20) as spool:
        for i in range(3):
            spool.append(payload(i))
        (segment,) = segments(tmp_path)
        with open(segment, "r+b") as f:
            f.seek(HEADER.size + 5)
            f.write(b"X")
        assert drain(spool) == [payload(1), payload(2)]
        assert spool.corrupt == 1


def test_unreadable_position_replays_everything(tmp_path: Path, caplog) -> None:
    """Real files with a damaged position file: at-least-once beats losing records."""
    with Spool(tmp_path, 1 << 20) as spool:
        for i in range(3):
            spool.append(payload(i))
        spool.peek()
        spool.ack()
    (tmp_path / "position").write_text("garbage")
    with Spool(tmp_path, 1 << 20) as spool:
        # Record 0 was delivered but its segment still holds 1 and 2: it comes again.
        assert drain(spool) == [payload(0), payload(1), payload(2)]
    assert "replaying the whole spool" in caplog.text


@pytest.mark.parametrize("fsync", [True, False])
def test_fsync_on_and_off(tmp_path: Path, fsync: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Real files either way; os.fsync is wrapped (still called through) only to count calls."""
    calls: list[int] = []
    real_fsync = os.fsync

    def counting_fsync(fd: int) -> None:
        calls.append(fd)
        real_fsync(fd)

    monkeypatch.setattr(spool_module.os, "fsync", counting_fsync)
    with Spool(tmp_path, 1 << 20, fsync=fsync) as spool:
        for i in range(3):
            spool.append(payload(i))
        appended = len(calls)
        spool.peek()
        spool.ack()
    with Spool(tmp_path, 1 << 20, fsync=fsync) as spool:
        assert drain(spool) == [payload(1), payload(2)]
    if fsync:
        assert appended >= 3  # one per append (plus the directory for the new segment)
        assert len(calls) > appended
    else:
        assert calls == []


def test_one_owner_at_a_time(tmp_path: Path) -> None:
    """Real flock(): a second Spool on the same directory is refused until the first closes."""
    first = Spool(tmp_path, 1 << 20)
    with pytest.raises(SpoolLocked):
        Spool(tmp_path, 1 << 20)
    first.close()
    with pytest.raises(SpoolClosed):
        first.append(b"x")
    Spool(tmp_path, 1 << 20).close()
