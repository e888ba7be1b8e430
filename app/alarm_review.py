"""The operator's review of alarms: which alarms were raised, which were seen
(acknowledged), and what the reviewer decided about each (confirmed / dismissed, notes).

No Qt, so the recorder and headless tools use it too. Decisions are an append-only log:
a reviewer who changes their mind adds a new entry and the newest one is the status, so
the record shows every call that was made and by whom (what an inspection report needs).

Thread-safe: alarms arrive from the pipeline's bridge, decisions from the GUI, and the
recorder reads; listeners are called outside the lock, on the caller's thread.
"""
from __future__ import annotations

import dataclasses
import datetime
import logging
import threading
from typing import Callable

log = logging.getLogger(__name__)

DECISIONS = ("confirmed", "dismissed")
# the reasons a dive team gives most often for a false alarm (offered in the dismiss dialog)
COMMON_DISMISS_REASONS = ("marine growth", "hull fitting / anode", "weld seam or paint damage",
                          "debris in the water", "reflection / glare", "already known (previous inspection)")


def utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


@dataclasses.dataclass(frozen=True)
class ReviewEntry:
    """One thing a reviewer did to an alarm: kind is "confirmed", "dismissed", "note" or
    "acknowledged"."""

    alarm_id: int
    kind: str
    reviewer: str
    t_utc: datetime.datetime
    text: str = ""  # the reason of a dismissal, a note's text


@dataclasses.dataclass(frozen=True)
class AlarmEvent:
    """What listeners receive: kind is "added", "updated" or a ReviewEntry kind."""

    kind: str
    alarm_id: int
    alarm: object  # the vision.alarms.Alarm as it is now
    entry: ReviewEntry | None = None


class AlarmReview:
    def __init__(self):
        self._lock = threading.Lock()
        self._alarms: dict[int, object] = {}  # alarm_id -> Alarm, in arrival order
        self._raised_utc: dict[int, datetime.datetime] = {}
        self._entries: list[ReviewEntry] = []
        self._acknowledged: set[int] = set()
        self._listeners: list[Callable[[AlarmEvent], None]] = []

    # -- alarms ---------------------------------------------------------------
    def add(self, alarm, t_utc: datetime.datetime | None = None) -> None:
        """A new alarm (a second add of the same id counts as an update)."""
        with self._lock:
            known = self._alarms.get(alarm.alarm_id)
            if known is not None and known.source != alarm.source:
                # each pipeline's AlarmBook counts from 1: ids must be made unique upstream
                raise ValueError(f"alarm id {alarm.alarm_id} is already a {known.source} alarm; a {alarm.source} "
                                 f"alarm cannot share it (give each source its own id range)")
            self._alarms[alarm.alarm_id] = alarm
            self._raised_utc.setdefault(alarm.alarm_id, t_utc or utc_now())
        self._notify(AlarmEvent("updated" if known is not None else "added", alarm.alarm_id, alarm))

    def update(self, alarm) -> None:
        """The alarm changed (a better snapshot, its hull address arrived)."""
        with self._lock:
            if alarm.alarm_id not in self._alarms:
                raise KeyError(f"alarm {alarm.alarm_id} was never added")
            self._alarms[alarm.alarm_id] = alarm
        self._notify(AlarmEvent("updated", alarm.alarm_id, alarm))

    def alarms(self) -> list:
        with self._lock:
            return list(self._alarms.values())

    def alarm(self, alarm_id: int):
        with self._lock:
            return self._get(alarm_id)

    def raised_utc(self, alarm_id: int) -> datetime.datetime:
        with self._lock:
            self._get(alarm_id)
            return self._raised_utc[alarm_id]

    # -- review ---------------------------------------------------------------
    def decide(self, alarm_id: int, decision: str, reviewer: str, reason: str = "",
               t_utc: datetime.datetime | None = None) -> ReviewEntry:
        if decision not in DECISIONS:
            raise ValueError(f"decision {decision!r} is not one of {', '.join(DECISIONS)}")
        reviewer = (reviewer or "").strip()
        if not reviewer:
            raise ValueError("a decision needs the reviewer's name: set the operator name first")
        reason = (reason or "").strip()
        if decision == "dismissed" and not reason:
            raise ValueError(f"dismissing alarm {alarm_id} needs a reason (e.g. marine growth, an anode)")
        return self._append(ReviewEntry(alarm_id, decision, reviewer, t_utc or utc_now(), reason))

    def note(self, alarm_id: int, text: str, reviewer: str, t_utc: datetime.datetime | None = None) -> ReviewEntry:
        text = (text or "").strip()
        if not text:
            raise ValueError("an empty note was not added")
        return self._append(ReviewEntry(alarm_id, "note", (reviewer or "").strip() or "unknown", t_utc or utc_now(),
                                        text))

    def acknowledge(self, alarm_id: int | None = None, reviewer: str = "",
                    t_utc: datetime.datetime | None = None) -> list[ReviewEntry]:
        """Mark one alarm (or every unacknowledged one, alarm_id None) as seen; returns the
        entries added (none for an alarm already acknowledged)."""
        t_utc = t_utc or utc_now()
        with self._lock:
            if alarm_id is None:
                ids = [i for i in self._alarms if i not in self._acknowledged]
            else:
                self._get(alarm_id)
                ids = [] if alarm_id in self._acknowledged else [alarm_id]
            entries = [ReviewEntry(i, "acknowledged", (reviewer or "").strip() or "unknown", t_utc) for i in ids]
            self._acknowledged.update(ids)
            self._entries.extend(entries)
            events = [AlarmEvent(e.kind, e.alarm_id, self._alarms[e.alarm_id], e) for e in entries]
        for event in events:
            self._notify(event)
        return entries

    def _append(self, entry: ReviewEntry) -> ReviewEntry:
        with self._lock:
            alarm = self._get(entry.alarm_id)
            self._entries.append(entry)
            if entry.kind in DECISIONS:
                self._acknowledged.add(entry.alarm_id)  # deciding implies having seen it
        self._notify(AlarmEvent(entry.kind, entry.alarm_id, alarm, entry))
        return entry

    # -- queries --------------------------------------------------------------
    def entries(self, alarm_id: int | None = None) -> list[ReviewEntry]:
        with self._lock:
            return [e for e in self._entries if alarm_id is None or e.alarm_id == alarm_id]

    def decision(self, alarm_id: int) -> ReviewEntry | None:
        """The newest decision (confirmed/dismissed) on the alarm, or None."""
        with self._lock:
            self._get(alarm_id)
            for e in reversed(self._entries):
                if e.alarm_id == alarm_id and e.kind in DECISIONS:
                    return e
        return None

    def status(self, alarm_id: int) -> str:
        """"new", "acknowledged", "confirmed" or "dismissed"."""
        decided = self.decision(alarm_id)
        if decided is not None:
            return decided.kind
        with self._lock:
            return "acknowledged" if alarm_id in self._acknowledged else "new"

    def unacknowledged(self) -> list:
        with self._lock:
            return [a for i, a in self._alarms.items() if i not in self._acknowledged]

    # -- listeners ------------------------------------------------------------
    def listeners(self, callback: Callable[[AlarmEvent], None]) -> Callable[[], None]:
        """Call callback(AlarmEvent) on every change; returns the function that unsubscribes."""
        with self._lock:
            self._listeners.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._listeners:
                    self._listeners.remove(callback)
        return unsubscribe

    def _notify(self, event: AlarmEvent) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for callback in listeners:
            try:
                callback(event)
            except Exception:  # noqa: BLE001 - one broken listener must not lose the decision for the others
                log.exception("alarm review listener failed on %s", event.kind)

    def _get(self, alarm_id: int):
        try:
            return self._alarms[alarm_id]
        except KeyError:
            raise KeyError(f"no alarm {alarm_id}") from None
