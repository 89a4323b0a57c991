"""A completed torrent as it seeds: its client's figures copied onto the attempt, and where it
stands against its [seeding] goal. Pure, like changes.py: the poll asks, the event log records, and
policies/seeding.py carries out the goal's action once the *arr import allows it.

The states (`seed_state`), and which of them the poll still asks the client about:
- seeding: the client seeds it; followed until the goal is met (without a goal, FOLLOW_FOR).
- held: goal met, to be removed, waiting for the *arr that knows it to import it. Followed.
- met: goal met, nothing to remove ([seeding] action = "report"), or the *arr will never import it.
- removed: taken out of its client by dlwatch (the goal's action, or `dlwatch remove`).
- stopped: the client stopped seeding it before the goal (its own limit, or by hand).
- gone: left the client while followed, not through dlwatch (e.g. the *arr removed it after import).
- ended: no goal, and followed for FOLLOW_FOR."""

from __future__ import annotations

from dlwatch.core.attempt import Attempt, now_iso, seconds_since
from dlwatch.core.humane import human_bytes, human_duration
from dlwatch.core.models import DownloadItem, DownloadStatus, Protocol
from dlwatch.settings.seeding import SeedGoal

SEED_STATES = ("seeding", "held", "met", "removed", "stopped", "gone", "ended")
FOLLOWED = ("seeding", "held")  # the poll keeps asking the client about these
FOLLOW_FOR = 7 * 86400.0  # seconds after completion a torrent with no goal is followed
GOAL_EVENT = "seeding_goal"  # core.events.Event.what of "seeding goal met"


def seed(before: Attempt, after: Attempt, item: DownloadItem, goal: SeedGoal) -> str | None:
    """Copy the item's seeding figures onto `after` and move its seed_state on; the message of a
    `seeding goal met` event when this answer meets the goal, else None."""
    if after.protocol is not Protocol.TORRENT or after.status is not DownloadStatus.COMPLETED:
        return None
    if before.status is DownloadStatus.COMPLETED and before.seed_state not in FOLLOWED:
        return None  # completed before dlwatch followed seeding, or its seeding has ended
    after.ratio = None if item.ratio is None else round(item.ratio, 3)
    after.seed_seconds, after.uploaded_bytes = item.seed_seconds, item.uploaded_bytes
    after.upload_speed, after.seeders = item.upload_speed, item.seeders
    if before.seed_state == "held":
        return None  # the goal's action waits on the import (policies/seeding.py)
    if before.status is not DownloadStatus.COMPLETED:
        # Just completed: its `completed` event is this change's; the goal is judged from the next answer.
        after.seed_state = "seeding" if item.seeding else "stopped"
        after.seed_detail = None if item.seeding else f"the client is not seeding it ({item.raw_state})"
        return None
    if reason := goal.met_by(after.ratio, after.seed_seconds):
        after.seed_state, after.goal_met_at = ("held" if goal.removes else "met"), now_iso()
        after.seed_detail = f"goal met: {reason}"
        return f"seeding goal met: {reason}"
    if not item.seeding:
        after.seed_state, after.upload_speed = "stopped", 0
        before_goal = f" before the goal ({goal.targets})" if goal.is_set else ""
        after.seed_detail = f"the client stopped seeding it ({item.raw_state}){before_goal}"
    elif not goal.is_set and seconds_since(after.completed_at or after.created_at) >= FOLLOW_FOR:
        after.seed_state, after.seed_detail = "ended", "no [seeding] goal: followed for 7 days"
    else:
        after.seed_state, after.seed_detail = "seeding", None
    return None


def gone(after: Attempt) -> None:
    """A followed torrent its client no longer lists (by the same evidence as `missing`)."""
    after.seed_state, after.upload_speed = "gone", 0
    after.seed_detail = "no longer in its client (removed there, or by the *arr after its import)"


def label(attempt: Attempt) -> str | None:
    """A short word for a narrow table's status cell: `seed 0.42` (the ratio), `held`, `seeded`…"""
    state = attempt.seed_state
    if state == "seeding":
        return f"seed {attempt.ratio:.2f}" if attempt.ratio is not None else "seeding"
    return {"held": "held", "met": "seeded", "stopped": "stopped", "gone": "gone"}.get(state or "")


def figures(attempt: Attempt) -> str | None:
    """Its seeding figures in a line, for a wide table: `ratio 0.42 · seeded 2h · up 1.2 GiB · 5 seeders`."""
    if attempt.seed_state is None:
        return None
    parts = [f"ratio {attempt.ratio:.2f}" if attempt.ratio is not None else ""]
    if attempt.seed_seconds is not None:
        parts.append(f"seeded {human_duration(attempt.seed_seconds)}")
    if attempt.uploaded_bytes is not None:
        parts.append(f"up {human_bytes(attempt.uploaded_bytes)}")
    if attempt.seeders is not None:
        parts.append(f"{attempt.seeders} seeders")
    return " · ".join(p for p in parts if p) or None
