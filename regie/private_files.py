"""Whether a file holding a secret (a token, a signing key) is private, for every role.

A secret file anyone else on the machine can read is a leaked secret. "Private" means not
readable by other users, and not by the file's group when this process owns the file (then the
group gains nothing legitimate). A file owned by root and readable by the service's group
(``0640 root:regie``) is accepted: that is how a service reads a secret it must not be able
to change.

One check and one message for the collector (which refuses to start), `regie ticket` and the
agent (which warn): standard library only, since the agent must not import the collector.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


def exposure(path: Path) -> str | None:
    """Why `path` is not private, with the command that fixes it, or None:

        '/etc/regie/agent.token' is readable by every user (mode 0644): chmod 600 /etc/...
    """
    try:
        info = path.stat()
    except OSError:
        return None   # reading it reports the problem
    mode = stat.S_IMODE(info.st_mode)
    if mode & stat.S_IROTH:
        who = "every user"
    elif mode & stat.S_IRGRP and info.st_uid == os.geteuid():
        who = "its group"
    else:
        return None
    return f"{str(path)!r} is readable by {who} (mode {mode:04o}): chmod 600 {path}"
