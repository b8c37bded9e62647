"""Child process for the kill -9 spool test: the agent's spool while the collector is down.

    python -m tests.agent.spool_writer SPOOL_DIR PAD_BYTES LIMIT

Appends push records (the exact payload PushService spools: idempotency key + request body)
in a tight loop and prints each record's id on its own line once append() has returned. The
test SIGKILLs it at some point; LIMIT only stops a runaway writer if the test never does.
Started again on the same spool, it carries on numbering after the complete records there
(nothing is delivered meanwhile, so that count is the next id).

fsync is off: a SIGKILL, unlike a power cut, loses nothing already written to the page cache,
so fsync would only make the kill land in fsync rather than in write() more often.
"""

from __future__ import annotations

import sys
from pathlib import Path

from agent.push import encode_spool_record, request_body
from agent.spool import Spool


def record_key(i: int) -> str:
    # uuid4-shaped and decodable back to the record id.
    return f"00000000-0000-4000-8000-{i:012d}"


def main() -> int:
    directory, pad, limit = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    spool = Spool(directory, max_bytes=limit * (pad + 4096), fsync=False)
    filler = b"x" * pad
    start = len(spool)
    for i in range(start, start + limit):
        key = record_key(i)
        # request_body(key, {"id": i, "pad": "xxx..."}) without JSON-encoding the padding on
        # every turn, so the loop spends its time in append() (the CRC and the write), where
        # the kill should land, rather than in json.dumps.
        empty = request_body(key, {"id": i, "pad": ""})
        body = empty[:-3] + filler + empty[-3:]
        spool.append(encode_spool_record(key, body))
        sys.stdout.write(f"{i}\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
