"""Who else has a ticket open, and who is typing (the collision guard's first half; the second is
`services.newer_conversation`, which holds back a reply written before newer messages).

Each open ticket page beats every few seconds (`presence_beat`); a viewer who stops beating drops
off after PRESENCE_TTL_SECONDS. The roster lives in the cache (Redis in production, the database
cache under `make run`), one entry per ticket. Two beats at the same instant may overwrite each
other's entry; the next beat, seconds later, puts it back — presence is a hint, not a record.
"""

import time
from dataclasses import dataclass

from django.core.cache import cache

BEAT_SECONDS = 5  # how often a page reports (templates/tickets/ticket_detail.html)
PRESENCE_TTL_SECONDS = 15  # three missed beats and the viewer is gone
TYPING_SECONDS = 6  # "typing" lasts this long after the last keystroke's beat


@dataclass(frozen=True)
class Viewer:
    user_id: int
    name: str
    typing: bool


def _key(ticket_number: str) -> str:
    return f"presence:ticket:{ticket_number}"


def presence_beat(
    *, ticket_number: str, user, typing: bool, now: float | None = None
) -> list[Viewer]:
    """Record that `user` has the ticket open (typing or not); return the *other* viewers."""
    now = time.time() if now is None else now
    stored = cache.get(_key(ticket_number)) or {}
    roster = {
        user_id: entry
        for user_id, entry in stored.items()
        if now - entry["seen"] < PRESENCE_TTL_SECONDS and user_id != user.pk
    }
    others = [
        Viewer(user_id, entry["name"], now - entry["typed"] < TYPING_SECONDS)
        for user_id, entry in sorted(roster.items(), key=lambda item: item[1]["name"])
    ]
    roster[user.pk] = {
        "name": user.get_full_name() or user.get_username(),
        "seen": now,
        "typed": now if typing else stored.get(user.pk, {}).get("typed", 0),
    }
    cache.set(_key(ticket_number), roster, PRESENCE_TTL_SECONDS)
    return others


def presence_leave(*, ticket_number: str, user) -> None:
    """The page was closed: drop the viewer at once instead of after the TTL."""
    roster = cache.get(_key(ticket_number)) or {}
    if roster.pop(user.pk, None) is not None:
        cache.set(_key(ticket_number), roster, PRESENCE_TTL_SECONDS)
