"""Changes: the model, who may move a change from one state to the next, and its risk score.

Pure: plain values in, plain values out, `now` an argument. The collector stores changes
(collector/store/changes.py) and maps a refused move (`ChangeRefused`) to 409 with its reason.

Three types (ITIL's): a `standard` change is pre-approved (submitting it approves it), a
`normal` change needs a change manager's approval, an `emergency` change may start before it
is approved but must be reviewed after it completes. The states:

    draft -> submitted -> approved | rejected
    approved -> in_progress -> completed (outcome successful | failed | rolled_back) -> reviewed
    (emergency only) submitted -> in_progress

Who may do what is one table, `TRANSITIONS`: (state, action) -> the next state, the roles
allowed, and the conditions. docs/changes.md prints it.
"""

from __future__ import annotations

import enum


class ChangeType(enum.StrEnum):
    STANDARD = "standard"     # pre-approved: submitting it approves it
    NORMAL = "normal"         # needs a change manager's approval
    EMERGENCY = "emergency"   # may start before approval; must be reviewed afterwards


class ChangeStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    REVIEWED = "reviewed"


class Outcome(enum.StrEnum):
    SUCCESSFUL = "successful"
    FAILED = "failed"
    ROLLED_BACK = "rolled_back"


# Outcomes after which incidents on the change's hosts are attributed to it.
HARMFUL_OUTCOMES = frozenset({Outcome.FAILED, Outcome.ROLLED_BACK})

# A change whose window is a maintenance window (the maintenance part reads these).
WINDOW_STATUSES = frozenset({ChangeStatus.APPROVED, ChangeStatus.IN_PROGRESS})
