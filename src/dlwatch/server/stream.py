"""`GET /api/v1/events`: the event log as Server-Sent Events, for the page and anything else.

One reader (the hub) follows the event log for every open stream: it asks the database for the
events after its cursor every TICK seconds (one indexed query, whatever the number of streams) and
hands each new one to every stream, so a change recorded by any dlwatch process (a cron `poll
--once`, a push report) reaches the page within about TICK. While downloads move, it also reads the
active downloads every PROGRESS_EVERY seconds and sends the ones that changed as one `progress`
frame. Each event's `event_id` is its SSE `id`: a browser that reconnects with `Last-Event-ID` gets
what it missed from the database first. A stream too slow to keep up is closed; it reconnects and
catches up the same way.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from dlwatch.core.records import feed_record, versioned
from dlwatch.store import eventlog
from dlwatch.store.db import Store
from dlwatch.store.listing import attempt_records

TICK = 0.4  # seconds between two looks at the event log
PROGRESS_EVERY = 1.5  # seconds between two progress frames, while something moves
KEEPALIVE = 15.0  # seconds of silence before a comment line keeps proxies from closing the stream
BACKLOG = 500  # frames a stream may fall behind before it is closed (it catches up on reconnect)
REPLAY_MAX = 2000  # events replayed after Last-Event-ID; past that the page reloads everything


class Subscriber:
    def __init__(self) -> None:
        self.frames: deque[tuple[int | None, bytes]] = deque()  # (event id or None, frame)
        self.ready = threading.Condition()
        self.closed = False
        self.after = 0  # events up to this id it has already (from its replay, or from before it came)

    def push(self, frame: bytes, event_id: int | None = None) -> None:
        with self.ready:
            if event_id is not None and event_id <= self.after:
                return
            if len(self.frames) >= BACKLOG:
                self.closed = True  # too slow: it will reconnect with Last-Event-ID
            else:
                self.frames.append((event_id, frame))
            self.ready.notify()

    def starts_after(self, event_id: int) -> None:
        """It has every event up to `event_id`: drop those queued meanwhile, take none of them again."""
        with self.ready:
            self.after = event_id
            self.frames = deque((i, f) for i, f in self.frames if i is None or i > event_id)

    def take(self, timeout: float) -> list[bytes]:
        with self.ready:
            if not self.frames and not self.closed:
                self.ready.wait(timeout)
            frames = [f for _, f in self.frames]
            self.frames.clear()
            return frames


class EventHub(threading.Thread):
    """The one reader of the event log for every open stream."""

    def __init__(self, db_path: Path) -> None:
        super().__init__(daemon=True, name="dlwatch-events")
        self.db_path = db_path
        self.stopped = threading.Event()
        self._subscribers: set[Subscriber] = set()
        self._lock = threading.Lock()
        self.cursor = 0
        self.reads = 0  # database reads made for the streams, for the benchmark
        self._progress: dict[int, str] = {}

    def subscribe(self) -> Subscriber:
        subscriber = Subscriber()
        with self._lock:
            self._subscribers.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        with self._lock:
            self._subscribers.discard(subscriber)

    @property
    def streams(self) -> int:
        with self._lock:
            return len(self._subscribers)

    def run(self) -> None:
        store = Store(self.db_path)
        try:
            self.cursor = eventlog.last_id(store)
            next_progress = 0.0
            while not self.stopped.wait(TICK):
                if not self.streams:
                    self.cursor = eventlog.last_id(store)  # nobody listens: nothing to send later
                    continue
                try:
                    self._send_events(store)
                    if time.monotonic() >= next_progress:
                        next_progress = time.monotonic() + PROGRESS_EVERY
                        self._send_progress(store)
                except Exception:
                    continue
        finally:
            store.close()
            with self._lock:
                for subscriber in self._subscribers:
                    subscriber.push(b"")  # wakes each stream to see the hub stopped

    def _send_events(self, store: Store) -> None:
        events = eventlog.after(store, self.cursor)
        self.reads += 1
        for event in events:
            self._broadcast(event_frame(event), event.id)
            self.cursor = event.id

    def _send_progress(self, store: Store) -> None:
        records = attempt_records(store, store.list_attempts(active_only=True, seeding=True))
        self.reads += 1
        moved, now = [], {}
        for record in records:
            now[record["id"]] = text = json.dumps(record, sort_keys=True)
            if self._progress.get(record["id"]) != text:
                moved.append(record)
        self._progress = now  # only what is active now: a month of downloads does not pile up here
        if moved:
            self._broadcast(frame("progress", versioned(moved)))

    def _broadcast(self, data: bytes, event_id: int | None = None) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            subscriber.push(data, event_id)


def frame(kind: str, data: object, event_id: int | None = None) -> bytes:
    """One SSE frame. JSON never holds a raw newline, so `data` is one line."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {kind}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def event_frame(event: eventlog.Event) -> bytes:
    return frame("change", versioned(feed_record(event)), event.id)


def streamer(hub: EventHub, store: Store, last_event_id: str | None) -> Callable[[BaseHTTPRequestHandler], None]:
    """What writes one stream: what was missed since `last_event_id`, then the hub's frames."""
    subscriber = hub.subscribe()  # before the replay is read: nothing falls between the two
    backlog: list[bytes] = [b"retry: 2000\n\n"]
    if last_event_id and last_event_id.isdigit():
        missed = eventlog.after(store, int(last_event_id))
        if len(missed) > REPLAY_MAX:
            backlog.append(frame("reload", {"reason": f"{len(missed)} events missed"}))
        else:
            backlog += [event_frame(e) for e in missed]
        # Events recorded after this read come from the hub (subscribed before it).
        subscriber.starts_after(missed[-1].id if missed else int(last_event_id))
    else:
        subscriber.starts_after(eventlog.last_id(store))  # a new page loaded everything up to now
    backlog.append(frame("hello", {"cursor": subscriber.after}))

    def write(request: BaseHTTPRequestHandler) -> None:
        try:
            request.wfile.write(b"".join(backlog))
            request.wfile.flush()
            while not hub.stopped.is_set() and not subscriber.closed:
                frames = subscriber.take(KEEPALIVE)
                request.wfile.write(b"".join(frames) if frames else b": keepalive\n\n")
                request.wfile.flush()
        except OSError:
            pass  # the browser went away, or was too slow (the socket's timeout)
        finally:
            hub.unsubscribe(subscriber)

    return write
