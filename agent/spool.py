"""A bounded on-disk FIFO of push records, for while the collector cannot be reached.

Layout of the spool directory::

    00000000000000000000.seg   segment files, named after the sequence number of their
    00000000000000000042.seg   first record; appended to, never rewritten
    position                   the sequence number of the oldest undelivered record
    lock                       flock()ed by the one process that owns the spool

A record on disk is a 20-byte header and the payload::

    magic b"RGS1" | payload length (u32) | sequence (u64) | CRC-32 (u32) | payload

all big-endian; the CRC covers length, sequence and payload. Sequence numbers grow by one per
record for the life of the spool, so the delivery position is a single number, written
atomically (temporary file, fsync, rename, fsync of the directory) on every ack: a restart
neither loses nor repeats an acknowledged record.

Opening the spool scans every segment. An incomplete record at the end of the last segment is
a write that was cut short (the process was killed, the machine lost power): the segment is
truncated to its last complete record. Bytes that fail their check in the middle of a segment
are skipped up to the next valid record and counted in `corrupt`; they never stop the replay.

The total size is bounded by `max_bytes`. Room is made by deleting the oldest segment; its
undelivered records are counted in `dropped`. A segment holds about max_bytes/16, so a full
spool drops its oldest sixteenth at a time, oldest first.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
import struct
import threading
import zlib
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

MAGIC = b"RGS1"
HEADER = struct.Struct(">4sIQI")
_SEGMENT_NAME = re.compile(r"^(\d{20})\.seg$")
_MIN_SEGMENT_BYTES = 64 * 1024
_MAX_SEGMENT_BYTES = 8 * 1024 * 1024


class SpoolError(Exception):
    """Base of the spool's own errors."""


class SpoolLocked(SpoolError):
    """Another process holds the spool directory."""


class SpoolClosed(SpoolError):
    """The spool was used after close()."""


class RecordTooLarge(SpoolError, ValueError):
    """A record that could never fit within max_bytes."""


def encode_record(sequence: int, payload: bytes) -> bytes:
    body = struct.pack(">IQ", len(payload), sequence)
    crc = zlib.crc32(payload, zlib.crc32(body))
    return HEADER.pack(MAGIC, len(payload), sequence, crc) + payload


@dataclass(frozen=True, slots=True)
class Record:
    """A valid record found in a segment: where it is and how long its payload is."""

    sequence: int
    offset: int
    length: int

    @property
    def end(self) -> int:
        return self.offset + HEADER.size + self.length


def decode_at(data: bytes | memoryview, offset: int) -> Record | None:
    """The record starting at `offset`, or None when there is no complete, valid one."""
    if len(data) - offset < HEADER.size:
        return None
    magic, length, sequence, crc = HEADER.unpack_from(data, offset)
    start = offset + HEADER.size
    if magic != MAGIC or start + length > len(data):
        return None
    view = memoryview(data)
    if zlib.crc32(view[start:start + length], zlib.crc32(view[offset + 4:start - 4])) != crc:
        return None
    return Record(sequence, offset, length)


@dataclass(frozen=True, slots=True)
class SegmentScan:
    records: list[Record]
    # Regions of invalid bytes followed by a valid record (skipped).
    corrupt: int
    # Where the last valid record ends; bytes after it are an incomplete tail.
    end: int


def scan_segment(data: bytes, after_sequence: int = -1) -> SegmentScan:
    """Index one segment's bytes. Records must carry sequence numbers above `after_sequence`
    and increasing; anything else is skipped as corrupt."""
    records: list[Record] = []
    corrupt = 0
    offset = 0
    end = 0
    last = after_sequence
    while offset < len(data):
        record = decode_at(data, offset)
        if record is not None and record.sequence > last:
            records.append(record)
            last = record.sequence
            offset = end = record.end
            continue
        # Invalid here: resynchronise on the next magic that starts a valid, newer record.
        search = offset + 1
        while True:
            found = data.find(MAGIC, search)
            if found < 0:
                return SegmentScan(records, corrupt, end)  # nothing valid follows: a torn tail
            candidate = decode_at(data, found)
            if candidate is not None and candidate.sequence > last:
                break
            search = found + 1
        corrupt += 1
        offset = found
    return SegmentScan(records, corrupt, end)


@dataclass(slots=True, eq=False)
class _Segment:
    first_sequence: int
    path: Path
    size: int = 0
    last_sequence: int = -1


@dataclass(frozen=True, slots=True)
class _Entry:
    segment: _Segment
    record: Record


@dataclass(slots=True)
class _State:
    segments: list[_Segment] = field(default_factory=list)
    pending: deque[_Entry] = field(default_factory=deque)


class Spool:
    """`append()` at the tail; `peek()` the oldest undelivered record, `ack()` it once delivered.

    Thread-safe. One process at a time: a second `Spool()` on the same directory raises
    SpoolLocked.
    """

    def __init__(self, directory: Path, max_bytes: int, *, fsync: bool = True,
                 segment_bytes: int | None = None) -> None:
        if max_bytes <= HEADER.size:
            raise ValueError(f"max_bytes must be more than {HEADER.size}, not {max_bytes}")
        self._dir = Path(directory)
        self._max_bytes = max_bytes
        self._fsync = fsync
        if segment_bytes is None:
            segment_bytes = min(max(max_bytes // 16, _MIN_SEGMENT_BYTES), _MAX_SEGMENT_BYTES)
        self._segment_bytes = min(segment_bytes, max_bytes)
        self._lock = threading.Lock()
        self._dropped = 0
        self._corrupt = 0
        self._peeked: int | None = None
        self._fd: int | None = None  # append descriptor of the last segment
        self._closed = False
        self._dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        _make_private(self._dir)
        self._lock_fd = os.open(self._dir / "lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._lock_fd)
            raise SpoolLocked(f"{self._dir} is in use by another process") from None
        try:
            self._position = self._read_position()
            self._state = _State()
            self._next_sequence = self._position
            self._open_segments()
        except BaseException:
            os.close(self._lock_fd)
            raise

    # -- public API -----------------------------------------------------------------------

    @property
    def directory(self) -> Path:
        return self._dir

    @property
    def max_bytes(self) -> int:
        return self._max_bytes

    @property
    def dropped(self) -> int:
        """Undelivered records deleted to stay within max_bytes, since open."""
        return self._dropped

    @property
    def corrupt(self) -> int:
        """Corrupt regions skipped (on open or on read), since open."""
        return self._corrupt

    @property
    def size_bytes(self) -> int:
        with self._lock:
            return sum(s.size for s in self._state.segments)

    def __len__(self) -> int:
        with self._lock:
            return len(self._state.pending)

    def append(self, payload: bytes) -> int:
        """Add a record at the tail (durably when fsync is on); return its sequence number."""
        with self._lock:
            self._check_open()
            record = encode_record(self._next_sequence, payload)
            if len(record) > self._max_bytes:
                raise RecordTooLarge(f"a {len(record)}-byte record cannot fit in a "
                                     f"{self._max_bytes}-byte spool")
            segments = self._state.segments
            while segments and sum(s.size for s in segments) + len(record) > self._max_bytes:
                self._drop_oldest()
            if not segments or (segments[-1].size
                                and segments[-1].size + len(record) > self._segment_bytes):
                self._new_segment()
            segment = segments[-1]
            self._write(segment, record)
            sequence = self._next_sequence
            entry = Record(sequence, segment.size, len(payload))
            segment.size += len(record)
            segment.last_sequence = sequence
            self._state.pending.append(_Entry(segment, entry))
            self._next_sequence += 1
            return sequence

    def peek(self) -> bytes | None:
        """The oldest undelivered payload, or None when the spool is empty."""
        with self._lock:
            self._check_open()
            pending = self._state.pending
            while pending:
                entry = pending[0]
                payload = self._read(entry)
                if payload is not None:
                    self._peeked = entry.record.sequence
                    return payload
                # Damaged on disk since it was indexed: skip it, as a scan would have.
                self._corrupt += 1
                log.warning("spool record %d in %s is corrupt; skipped",
                            entry.record.sequence, entry.segment.path.name)
                pending.popleft()
            self._peeked = None
            return None

    def ack(self) -> None:
        """Mark the record returned by the last peek() delivered (durably).

        Everything before it was delivered already, so the position moves past it even when
        an append dropped it from a full spool in between (then there is nothing to remove).
        """
        with self._lock:
            self._check_open()
            if self._peeked is None:
                raise RuntimeError("ack() without a record from peek()")
            sequence, self._peeked = self._peeked, None
            pending = self._state.pending
            while pending and pending[0].record.sequence <= sequence:
                pending.popleft()
            if sequence + 1 > self._position:
                self._position = sequence + 1
                self._write_position()
            self._collect_delivered()

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._close_fd()
            os.close(self._lock_fd)  # releases the flock

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- opening --------------------------------------------------------------------------

    def _read_position(self) -> int:
        path = self._dir / "position"
        try:
            text = path.read_text(encoding="ascii").strip()
        except FileNotFoundError:
            return 0
        if not text.isdigit():
            # Delivering again is safe (the collector de-duplicates on the idempotency key);
            # guessing a later position could lose records.
            log.warning("%s holds %r, not a sequence number; replaying the whole spool",
                        path, text[:40])
            return 0
        return int(text)

    def _open_segments(self) -> None:
        names = sorted(p for p in self._dir.iterdir() if _SEGMENT_NAME.match(p.name))
        last_sequence = -1
        for index, path in enumerate(names):
            data = path.read_bytes()
            scan = scan_segment(data, last_sequence)
            is_last = index == len(names) - 1
            tail = len(data) - scan.end
            self._corrupt += scan.corrupt
            if scan.corrupt:
                log.warning("spool segment %s: skipped %d corrupt region(s)",
                            path.name, scan.corrupt)
            if tail and is_last:
                # An append that never completed (killed mid-write): drop its bytes so new
                # records follow the last complete one.
                log.warning("spool segment %s: truncating an incomplete record (%d bytes) "
                            "at offset %d", path.name, tail, scan.end)
                os.truncate(path, scan.end)
            elif tail:
                self._corrupt += 1
                log.warning("spool segment %s: %d unreadable bytes at its end skipped",
                            path.name, tail)
            segment = _Segment(int(_SEGMENT_NAME.match(path.name)[1]), path,
                               size=scan.end if is_last else len(data))
            if scan.records:
                segment.last_sequence = scan.records[-1].sequence
                last_sequence = segment.last_sequence
                self._next_sequence = max(self._next_sequence, last_sequence + 1)
            self._state.segments.append(segment)
            for record in scan.records:
                if record.sequence >= self._position:
                    self._state.pending.append(_Entry(segment, record))
        self._next_sequence = max(self._next_sequence,
                                  max((s.first_sequence for s in self._state.segments),
                                      default=0))
        self._collect_delivered()

    # -- internals (called with the lock held) --------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise SpoolClosed(f"spool {self._dir} is closed")

    def _close_fd(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _new_segment(self) -> None:
        self._close_fd()
        path = self._dir / f"{self._next_sequence:020d}.seg"
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
        if self._fsync:
            self._sync_directory()
        self._state.segments.append(_Segment(self._next_sequence, path))

    def _write(self, segment: _Segment, record: bytes) -> None:
        if self._fd is None:  # reopened spool: continue the last segment
            self._fd = os.open(segment.path, os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC)
        view = memoryview(record)
        written = 0
        try:
            while written < len(view):
                written += os.write(self._fd, view[written:])
            if self._fsync:
                os.fsync(self._fd)
        except OSError:
            # Disk full or I/O error: take the partial record back off so the next append
            # does not land behind garbage.
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, segment.size)
            raise

    def _read(self, entry: _Entry) -> bytes | None:
        record = entry.record
        try:
            with open(entry.segment.path, "rb") as f:
                f.seek(record.offset)
                data = f.read(HEADER.size + record.length)
        except OSError as exc:
            log.warning("cannot read spool segment %s: %s", entry.segment.path, exc)
            return None
        found = decode_at(data, 0)
        if found is None or found.sequence != record.sequence:
            return None
        return data[HEADER.size:]

    def _drop_oldest(self) -> None:
        segment = self._state.segments.pop(0)
        if not self._state.segments:
            self._close_fd()  # it was also the one being appended to
        pending = self._state.pending
        dropped = 0
        while pending and pending[0].segment is segment:
            pending.popleft()
            dropped += 1
        self._dropped += dropped
        segment.path.unlink(missing_ok=True)
        if dropped:
            log.warning("spool full (%d bytes): dropped the %d oldest undelivered record(s)",
                        self._max_bytes, dropped)

    def _collect_delivered(self) -> None:
        """Delete segments whose every record is delivered (or that hold none)."""
        segments = self._state.segments
        while segments and segments[0].last_sequence < self._position:
            segment = segments.pop(0)
            if not segments:
                self._close_fd()
            segment.path.unlink(missing_ok=True)

    def _write_position(self) -> None:
        tmp = self._dir / "position.tmp"
        with open(tmp, "w", encoding="ascii") as f:
            f.write(f"{self._position}\n")
            f.flush()
            if self._fsync:
                os.fsync(f.fileno())
        os.replace(tmp, self._dir / "position")
        if self._fsync:
            self._sync_directory()

    def _sync_directory(self) -> None:
        fd = os.open(self._dir, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _make_private(directory: Path) -> None:
    """An existing spool directory open to others (0755 from an older install or a manual
    mkdir) is tightened to 0700: its records are inventory documents. When the agent does not
    own it (chmod would fail), it says so and carries on; the files inside are 0600."""
    mode = directory.stat().st_mode & 0o777
    if not mode & 0o077:
        return
    try:
        directory.chmod(0o700)
    except OSError as exc:
        log.warning("spool directory %s is open to other users (mode %04o) and cannot be "
                    "tightened: %s; chmod 700 it", directory, mode, exc.strerror or exc)
    else:
        log.info("spool directory %s tightened from mode %04o to 0700", directory, mode)
