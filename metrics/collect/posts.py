"""A month's posts: VK walls read through full ``execute`` requests, OK group feeds page by page.

VK. A wall is read from the top (newest first) in pages of 100 until a page's oldest regular post
is older than the month (or the wall ends), so a busy wall, or a month long past, takes several
pages. ``WallStream`` reads the walls of many batches as one stream: first pages and follow-up
pages are calls in one queue, sent 25 to an ``execute``, and a request with fewer than 25 calls
goes out only when nothing else is in flight that could still add follow-ups — so a run costs
⌈Σ pages ÷ 25⌉ requests (one more only when a wall needs a third page right at the end).

Only user tokens may send ``wall.get`` inside ``execute`` (VK's schema: ``execute`` takes user and
community tokens, ``wall.get`` user and service ones). With service tokens alone the stream reads
a page a request (``wall_plan``): the same queue, the same pacing, 25 times the requests.

The requests go out from a pool of threads, as many as the tokens have request slots (3 each),
each waiting in the shared limiter, so every token is kept busy. Once a slot is theirs they also
keep an even pace (a request every second ÷ slots at most): slots that free together would fire
together, and a burst of requests answered together makes each answer later — which costs a
token its rate, since a slot frees one second after its answer. The calling thread reads the
answers, queues follow-up pages, takes further batches as the queue runs low and hands each batch
back as soon as all its walls are read, to be stored while the next requests wait for their
slots. The sending threads never touch the database: token trouble, like storing, is handled in
the calling thread.

OK has no ``execute``: a group's feed (``mediatopic.getTopics``) is read a page at a time.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter, deque
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from institutions.choices import Network
from metrics.collect.credentials import Credential
from metrics.collect.errors import (
    CommunityError,
    NetworkError,
    NoUsableToken,
    TokenError,
    TransientNetworkError,
)
from metrics.collect.fetch import (
    BatchResult,
    Target,
    credentials_usable,
    guarded,
    month_bounds,
    network_client,
    token_trouble,
)
from metrics.collect.mapping import PostTotals, posts_values
from metrics.formats import PostFact
from metrics.ok.client import OkClient, OkTopic
from metrics.tokens import tokens_usable
from metrics.vk.answers import VkWallPage
from metrics.vk.calls import EXECUTE_MAX_CALLS, TOKEN_KINDS, VkCall, batch_kinds, wall_call
from metrics.vk.client import VkClient

#: Most sending threads one stream runs (community tokens would allow 20 each).
MAX_SENDERS = 12
#: The even pace, as a share of the limit's spacing: bursts spread out, and no queue builds up.
PACE = 0.5

# (community id, offset) of one wall.get
WallCall = tuple[int, int]
# A batch handed to the stream: its id, its communities and the result to fill.
StreamBatch = tuple[int, list[Target], BatchResult]


@dataclass
class _Wall:
    """One community's wall as read so far."""

    target: Target
    batch_id: int
    totals: PostTotals = field(default_factory=PostTotals)
    facts: list[PostFact] = field(default_factory=list)


@dataclass(frozen=True)
class _Sent:
    """What one request of a sending thread brought back."""

    answers: list[Any] | None
    requests: int
    error: NetworkError | None


def wall_plan(credentials: list[Credential]) -> tuple[list[Credential], int]:
    """The credentials a wall stream sends with, and how many pages one request reads.

    User tokens read 25 pages an ``execute``; only when there are none, service tokens read a
    page a request (community tokens cannot read walls at all).
    """
    batching = [c for c in credentials if c.kind in batch_kinds({"wall.get"})]
    if batching:
        return batching, EXECUTE_MAX_CALLS
    single = [c for c in credentials if c.kind in TOKEN_KINDS["wall.get"]]
    if not single:
        raise NoUsableToken("нет ключа VK, который читает стены (нужен ключ пользователя или "
                            "сервисный ключ)", key="no_token")
    return single, 1


class WallStream:
    """The walls of a run's batches, read through one stream of full ``execute`` requests.

    ``batches`` is consumed lazily (the caller may claim each batch as it is taken).
    ``completed()`` yields lists of batch ids whose results are complete (several when one
    answer completes several batches, as the run's last answers do); it raises the failure that
    stopped the stream (a transient network error, or no usable token left) once the requests
    in flight have come back. The batches not yielded by then are ``open_batches()``, their
    results holding the requests and errors spent on them; the failed request is counted to
    ``failed_batch``, its error left for the caller to count.
    """

    def __init__(self, *, period: dt.date, credentials: list[Credential],
                 batches: Iterator[StreamBatch]) -> None:
        # As unix times, as the pages' dates are.
        self.start, self.end = (int(moment.timestamp()) for moment in month_bounds(period))
        self.credentials, self.per_request = wall_plan(credentials)
        credentials = self.credentials
        self.dropped: set[int | None] = set()
        self.slots = min(MAX_SENDERS, sum(c.limit_key.limit for c in credentials))
        self.reserve = self.per_request * (self.slots + 1)
        self.batches, self.exhausted = batches, False
        self.results: dict[int, BatchResult] = {}
        self.reading: dict[int, set[int]] = {}  # batch id → communities still being read
        self.walls: dict[int, _Wall] = {}
        self.queue: deque[WallCall] = deque()
        self.ready: deque[int] = deque()
        self.failure: NetworkError | None = None
        self.failed_batch: int | None = None
        self._local = threading.local()
        self._clients: list[VkClient] = []
        self._pace_lock = threading.Lock()
        self._interval = PACE * min(c.limit_key.window for c in credentials) / self.slots
        self._next_send = 0.0

    # --- the calling thread -----------------------------------------------------------------
    def completed(self) -> Iterator[list[int]]:
        """Batch ids whose every wall is read, as soon as they are, those ready together in
        one list."""
        in_flight: dict[Future[_Sent], list[WallCall]] = {}
        pool = ThreadPoolExecutor(self.slots, thread_name_prefix="vk-walls")
        try:
            self._dispatch(pool, in_flight)
            yield from self._take_ready()
            while in_flight:
                done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                for future in done:
                    self._receive(in_flight.pop(future), future.result())
                self._dispatch(pool, in_flight)
                yield from self._take_ready()
        finally:  # also when the caller stops early: the requests in flight come back first
            pool.shutdown(wait=True, cancel_futures=True)
            for client in self._clients:
                client.session.close()
        if self.failure:
            raise self.failure

    def open_batches(self) -> list[int]:
        """Batches taken but not yielded (still being read when the stream stopped)."""
        return [batch_id for batch_id, reading in self.reading.items() if reading]

    def _refill(self, calls: int) -> None:
        """Take batches until ``calls`` wall calls are queued (or none are left)."""
        while len(self.queue) < calls and not self.exhausted:
            taken = next(self.batches, None)
            if taken is None:
                # The last first pages go out before any follow-up page: only they can still
                # bring more pages, and their answers must not come after the last request.
                self.exhausted = True
                self.queue = deque(sorted(self.queue, key=lambda call: call[1] > 0))
                return
            batch_id, targets, result = taken
            self.results[batch_id], self.reading[batch_id] = result, set()
            for target in targets:
                if not target.network_id:
                    result.problem(target.pk, key="vk:no_id", message="у сообщества ещё нет id "
                                   "VK (дождитесь ежедневного сбора)")
                    continue
                self.walls[target.pk] = _Wall(target, batch_id)
                self.reading[batch_id].add(target.pk)
                self.queue.append((target.pk, 0))
            if not self.reading[batch_id]:
                self.ready.append(batch_id)

    def _dispatch(self, pool: ThreadPoolExecutor,
                  in_flight: dict[Future[_Sent], list[WallCall]]) -> None:
        """Send full executes while slots are free; a short one only when nothing is in flight."""
        while self.failure is None and len(in_flight) < self.slots:
            # Up to the reserve, but no further than this request and the next need: the
            # run's first request goes out once one batch is claimed, not the reserve's ten.
            self._refill(min(self.reserve, self.per_request * (len(in_flight) + 2)))
            if not self.queue or (len(self.queue) < self.per_request and in_flight):
                return
            chunk = [self.queue.popleft()
                     for _ in range(min(self.per_request, len(self.queue)))]
            calls = [wall_call(self.walls[cid].target.network_id, offset=offset)
                     for cid, offset in chunk]
            in_flight[pool.submit(self._send, calls)] = chunk

    def _receive(self, chunk: list[WallCall], sent: _Sent) -> None:
        owner = Counter(self.walls[cid].batch_id for cid, _ in chunk).most_common(1)[0][0]
        result = self.results[owner]
        result.requests += sent.requests  # each request is counted to one batch it served
        if sent.error is None:
            for (cid, offset), answer in zip(chunk, sent.answers or [], strict=True):
                self._read(cid, offset, answer)
            return
        error = sent.error
        if isinstance(error, TokenError):
            if error.token_id is not None:
                token_trouble(error)
                self.dropped.add(error.token_id)
                if any(c.token_id not in self.dropped for c in self.credentials):
                    result.errors[error.key] += 1
                    self.queue.extendleft(reversed(chunk))
                    return
            error = NoUsableToken(f"не осталось действующих ключей: {error.message}",
                                  key=error.key)
        elif not isinstance(error, TransientNetworkError):
            # Refused as a whole and for good (a request VK rejects, an error it gave for the
            # whole execute): no retry would help, so these walls fail and the stream goes on.
            for cid, _offset in chunk:
                if cid in self.walls:
                    self.results[self.walls[cid].batch_id].problem(
                        cid, key=error.key, message=f"VK отклонил запрос: {error.message}")
                    self._finish(cid)
            return
        if self.failure is None:
            self.failure, self.failed_batch = error, owner
        else:
            result.errors[error.key] += 1

    def _read(self, cid: int, offset: int, answer: VkWallPage | CommunityError) -> None:
        """Keep the month's posts; queue the next page while the wall may hold more of them."""
        wall = self.walls[cid]
        result = self.results[wall.batch_id]
        if isinstance(answer, CommunityError):
            result.community_failure(wall.target, answer)
        else:
            wall.totals.add(*answer.totals(self.start, self.end))
            wall.facts += answer.facts(self.start, self.end)
            oldest = answer.oldest_regular()
            fetched = offset + answer.size
            if oldest is not None and oldest >= self.start and fetched < answer.count:
                # Behind the first pages: every wall's depth is known as early as possible,
                # so the last requests are not short ones waiting on each other's answers.
                self.queue.append((cid, fetched))
                return
            result.monthly[cid] = wall.totals.values()
            result.posts[cid] = wall.facts
            result.done(cid)
        self._finish(cid)

    def _finish(self, cid: int) -> None:
        """The wall is read (or given up): its batch is ready once its last wall is."""
        wall = self.walls.pop(cid)
        reading = self.reading[wall.batch_id]
        reading.discard(cid)
        if not reading:
            self.ready.append(wall.batch_id)

    def _take_ready(self) -> Iterator[list[int]]:
        if self.ready:
            taken, self.ready = list(self.ready), deque()
            yield taken

    # --- the sending threads ----------------------------------------------------------------
    def _pace(self) -> None:
        with self._pace_lock:
            now = time.monotonic()
            at = self._next_send = max(now, self._next_send + self._interval)
        if at > now:
            time.sleep(at - now)

    def _send(self, calls: list[VkCall]) -> _Sent:
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = VkClient(credentials=self.credentials, pace=self._pace)
            self._clients.append(client)
        client.credentials = [c for c in self.credentials if c.token_id not in self.dropped]
        before = client.requests_made
        try:
            answers = client.run(calls)
        except NetworkError as exc:
            return _Sent(None, client.requests_made - before, exc)
        return _Sent(answers, client.requests_made - before, None)


def vk_posts(communities: list[Target], period: dt.date, result: BatchResult) -> None:
    """One batch's posts (the stream of a single batch; runs stream all their batches)."""
    credentials = credentials_usable(Network.VK, tokens_usable(network=Network.VK))
    stream = WallStream(period=period, credentials=credentials,
                        batches=iter([(0, communities, result)]))
    for _ in stream.completed():
        pass


# --- OK -------------------------------------------------------------------------------------------
def ok_posts(communities: list[Target], period: dt.date, result: BatchResult) -> None:
    """A month's topics of OK groups: each feed from the newest page until it passes the month."""
    start, end = month_bounds(period)
    for community in communities:
        if not community.network_id:
            result.problem(community.pk, key="ok:no_id", message="у группы OK не указан id")
    client = network_client(Network.OK, tokens_usable(network=Network.OK))
    try:
        for community in (c for c in communities if c.network_id):
            topics = _ok_feed(client, community, start, end, result)
            if topics is not None:
                result.monthly[community.pk] = posts_values(topics)
                result.posts[community.pk] = [t.fact for t in topics if t.fact is not None]
                result.done(community.pk)
    finally:
        result.requests += client.requests_made


def _ok_feed(client: OkClient, community: Target, start: dt.datetime, end: dt.datetime,
             result: BatchResult) -> list[OkTopic] | None:
    """The month's topics of one group, or None when the group refused (closed, deleted)."""
    topics: list[OkTopic] = []
    anchor = ""
    while True:
        try:
            page = guarded(client, result, lambda anchor=anchor: client.group_topics(
                community.network_id, anchor=anchor))
        except CommunityError as exc:
            result.community_failure(community, exc)
            return None
        topics += [t for t in page.topics if start <= t.date < end]
        if not (page.has_more and page.topics and page.topics[-1].date >= start):
            return topics
        anchor = page.anchor
