"""The HTTP server: uvicorn settings with request-head limits (:func:`server_config`) and :class:`RunningServer`, a server in a thread."""
from __future__ import annotations

import logging
import threading

from .guards import json_body

logger = logging.getLogger(__name__)

#: Largest request line plus headers the server reads (h11's own default is 16 KB, or whatever one read brings);
#: a longer one (e.g. a query string with tens of thousands of parameters) gets 400 JSON before reaching the app.
MAX_REQUEST_HEAD_BYTES = 64 * 1024
#: Seconds a client has to send a whole request head (from connecting, or from the end of its previous
#: response); a client that trickles bytes slower is disconnected.
HEAD_TIMEOUT_SECONDS = 10.0
#: Seconds an idle keep-alive connection stays open after a response.
KEEP_ALIVE_SECONDS = 5
#: Seconds a client has to send a request body once its head is in, plus one second for every
#: :data:`BODY_MIN_RATE` bytes that arrive (Apache's ``mod_reqtimeout`` default, ``body=20,MinRate=500``): a
#: client trickling a byte every few seconds is answered 408 and disconnected, a slow but steady upload is not.
BODY_TIMEOUT_SECONDS = 20.0
#: Bytes per second that extend the body deadline by one second each (see :data:`BODY_TIMEOUT_SECONDS`).
BODY_MIN_RATE = 500


def _head_size(event) -> int:
    """Bytes of a parsed request head as sent: request line, headers, blank line."""
    line = len(event.method) + len(event.target) + len(event.http_version) + 8  # spaces, "HTTP/", CRLF
    return line + sum(len(name) + len(value) + 4 for name, value in event.headers.raw_items()) + 2


def server_config(app, head_timeout: float = HEAD_TIMEOUT_SECONDS, keep_alive: int = KEEP_ALIVE_SECONDS,
                  body_timeout: float = BODY_TIMEOUT_SECONDS, body_min_rate: int = BODY_MIN_RATE, **options):
    """The uvicorn settings of ``python app.py`` and :class:`RunningServer`.

    HTTP/1.1 through h11 with three limits uvicorn lacks or applies loosely:

    - a request head (request line and headers) over :data:`MAX_REQUEST_HEAD_BYTES` is refused
      however it arrives (h11 alone checks only a head still incomplete after a read, so one
      read could bring in 108 KB);
    - a client must send a whole request head within ``head_timeout`` seconds of connecting (or
      of its previous response); uvicorn has no such timeout, so clients trickling a header byte
      every few seconds were held forever;
    - a client must send the request body within ``body_timeout`` seconds of its head, plus one
      second per ``body_min_rate`` bytes received; else it gets 408 JSON (if nothing was answered
      yet) and is disconnected, and the app sees the client leave. uvicorn has no body timeout:
      a client declaring 60 KB and sending a byte every few seconds was held forever. Time the
      app leaves the body unread (flow control, ``Expect: 100-continue``) does not count;
    - an idle keep-alive connection is closed after ``keep_alive`` seconds.

    A request uvicorn cannot parse, or one with a longer head, is answered with 400 JSON
    ``{"error", "status"}`` instead of uvicorn's plain-text 400.

    Args:
        app: the ASGI app.
        head_timeout: seconds to send a request head. Defaults to :data:`HEAD_TIMEOUT_SECONDS` (10).
        keep_alive: seconds an idle connection stays open. Defaults to :data:`KEEP_ALIVE_SECONDS` (5).
        body_timeout: seconds to send a request body (before the rate extension). Defaults to
            :data:`BODY_TIMEOUT_SECONDS` (20).
        body_min_rate: bytes that extend the body deadline by one second. Defaults to :data:`BODY_MIN_RATE` (500).
        options: more :class:`uvicorn.Config` arguments (host, port, log_level, ...).

    Returns:
        A :class:`uvicorn.Config`.
    """
    import h11
    import uvicorn
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class HeadLimitedConnection(h11.Connection):
        def next_event(self):
            event = super().next_event()
            if isinstance(event, h11.Request) and _head_size(event) > MAX_REQUEST_HEAD_BYTES:
                raise h11.RemoteProtocolError("request head too long", error_status_hint=431)
            return event

    class GuardedH11Protocol(H11Protocol):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self.conn = HeadLimitedConnection(h11.SERVER, MAX_REQUEST_HEAD_BYTES)
            self.head_timer = self.body_timer = None
            self.body_started = self.body_deadline = 0.0
            self.body_bytes = 0

        def _arm_head_timer(self) -> None:
            self._disarm_head_timer()
            if not self.transport.is_closing():
                self.head_timer = self.loop.call_later(head_timeout, self._head_timed_out)

        def _disarm_head_timer(self) -> None:
            if self.head_timer is not None:
                self.head_timer.cancel()
                self.head_timer = None

        def _head_timed_out(self) -> None:
            self.head_timer = None
            if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
                self.transport.close()  # nothing was asked yet: no answer is owed

        def connection_made(self, transport) -> None:
            super().connection_made(transport)
            self._arm_head_timer()

        def data_received(self, data: bytes) -> None:
            reading_body = self.conn.their_state is h11.SEND_BODY
            super().data_received(data)
            if self.conn.their_state is not h11.IDLE:  # the head is in: the request runs
                self._disarm_head_timer()
            if self.conn.their_state is not h11.SEND_BODY:
                self._disarm_body_timer()
            elif reading_body:  # more of the body: later deadline
                self.body_bytes += len(data)
                self.body_deadline += len(data) / body_min_rate
            else:  # the head just came in, the body has not: start its clock
                self._disarm_body_timer()
                self.body_started, self.body_bytes = self.loop.time(), 0
                self.body_deadline = self.body_started + body_timeout
                self.body_timer = self.loop.call_at(self.body_deadline, self._body_timed_out)

        def _disarm_body_timer(self) -> None:
            if self.body_timer is not None:
                self.body_timer.cancel()
                self.body_timer = None

        def _body_timed_out(self) -> None:
            self.body_timer = None
            if self.conn.their_state is not h11.SEND_BODY or self.transport.is_closing():
                return
            now, cycle = self.loop.time(), self.cycle
            if self.flow.read_paused or (cycle is not None and cycle.waiting_for_100_continue):
                self.body_deadline = now + body_timeout  # the app is not reading yet: not the client's time
            if now < self.body_deadline:
                self.body_timer = self.loop.call_at(self.body_deadline, self._body_timed_out)
                return
            logger.info("closed a connection whose request body did not arrive in time (%d bytes in %.1f s)",
                        self.body_bytes, now - self.body_started)
            answered = cycle is None or cycle.response_started
            if cycle is not None:  # the app's receive() now says the client left; its answer is dropped
                cycle.disconnected = True
                cycle.message_event.set()
            if not answered:
                body = json_body(408, f"request body not received in time: send it within {body_timeout:g} s, "
                                      f"plus 1 s per {body_min_rate} bytes")
                headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                           (b"x-content-type-options", b"nosniff"), (b"connection", b"close")]
                try:
                    self.transport.write(self.conn.send(h11.Response(status_code=408, headers=headers,
                                                                     reason=b"Request Timeout")))
                    self.transport.write(self.conn.send(h11.Data(data=body)))
                    self.transport.write(self.conn.send(h11.EndOfMessage()))
                except h11.LocalProtocolError:  # the connection cannot take an answer any more: just close it
                    pass
            self.transport.close()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if self.conn.their_state is h11.IDLE:  # waiting for the next request's head
                self._arm_head_timer()

        def connection_lost(self, exc) -> None:
            self._disarm_head_timer()
            self._disarm_body_timer()
            super().connection_lost(exc)

        def send_400_response(self, msg: str) -> None:
            body = json_body(400, f"invalid HTTP request: the request line and headers must be valid HTTP/1.1 and "
                                  f"at most {MAX_REQUEST_HEAD_BYTES // 1024} KB in all")
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                       (b"x-content-type-options", b"nosniff"), (b"connection", b"close")]
            self.transport.write(self.conn.send(h11.Response(status_code=400, headers=headers, reason=b"Bad Request")))
            self.transport.write(self.conn.send(h11.Data(data=body)))
            self.transport.write(self.conn.send(h11.EndOfMessage()))
            self.transport.close()

    return uvicorn.Config(app, http=GuardedH11Protocol, h11_max_incomplete_event_size=MAX_REQUEST_HEAD_BYTES,
                          timeout_keep_alive=keep_alive, **options)


class RunningServer:
    """A uvicorn server running ``app`` in a background thread (tests, benchmarks, notebooks).

    Usage example (as a context manager it stops on leaving the block; else call :meth:`stop`):
        >>> with RunningServer(create_app(engine)) as server:   # doctest: +SKIP
        ...     httpx.get(server.url + "healthz").json()["status"]
        'ok'

    Args:
        app: the ASGI app.
        host: address to bind. Defaults to 127.0.0.1.
        port: port to bind. Defaults to 0: a free port, see :attr:`url`.
        timeout: seconds to wait for the server to start. Defaults to 30.
        options: more :func:`server_config` arguments, e.g. ``head_timeout=1.0``.

    Raises:
        RuntimeError: the server did not start within ``timeout``.
    """

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0, timeout: float = 30.0, **options) -> None:
        import socket
        import time

        import uvicorn

        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind((host, port))
        self.url = f"http://{host}:{self.socket.getsockname()[1]}/"
        self.server = uvicorn.Server(server_config(app, **{"log_level": "warning", "access_log": False,
                                                           "timeout_graceful_shutdown": 2, **options}))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]},
                                       name=f"uvicorn {self.url}", daemon=True)
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                self.stop()
                raise RuntimeError(f"web server at {self.url} did not start within {timeout:g} s")
            time.sleep(0.02)

    def stop(self) -> None:
        """Ask the server to exit and wait for its thread."""
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.socket.close()

    def __enter__(self) -> "RunningServer":
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()
