"""A small keep-alive HTTP/1.1 client on a raw socket, shared by the benchmark and fault
drivers. Standard library only. It costs a driver about half the CPU per request of
http.client (TCP_NODELAY, one send per request), which matters when the driver shares the
machine with the server and PostgreSQL."""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
import time


class HTTPFailure(Exception):
    """A request that did not get a well-formed response."""


class Client:
    """One keep-alive connection to 127.0.0.1:port. Not thread-safe: one per worker (and instance)."""

    def __init__(self, port: int, token: str | None = None, timeout: float = 30.0):
        self.port = port
        self.timeout = timeout
        self.sock: socket.socket | None = None
        self.reader = None
        self.sent = 0  # requests sent on this client, for a driver's CPU per request
        self.fixed_headers = f"Host: 127.0.0.1:{port}\r\nAccept: application/json\r\n"
        if token:
            self.fixed_headers += f"Authorization: Bearer {token}\r\n"

    def connect(self) -> None:
        if self.sock is not None:
            return
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = sock
        self.reader = sock.makefile("rb", buffering=65536)

    def close(self) -> None:
        for thing in (self.reader, self.sock):
            if thing is not None:
                try:
                    thing.close()
                except OSError:
                    pass
        self.sock = None
        self.reader = None

    def request(self, method: str, path: str, body=None, headers: dict[str, str] | None = None):
        """Sends one request; returns (status, decoded JSON or None). Never retries. On a transport
        error the connection is closed (the next request reconnects) and HTTPFailure is raised."""
        extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        if body is None:
            payload = b""
            head = f"{method} {path} HTTP/1.1\r\n{self.fixed_headers}{extra}Content-Length: 0\r\n\r\n"
        else:
            payload = json.dumps(body, separators=(",", ":")).encode()
            head = (
                f"{method} {path} HTTP/1.1\r\n{self.fixed_headers}{extra}"
                f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
            )
        try:
            self.connect()
            assert self.sock is not None
            self.sent += 1
            self.sock.sendall(head.encode("ascii") + payload)
            status, data, keep_alive = self._read_response(method)
        except (OSError, ValueError, HTTPFailure) as error:
            self.close()
            raise HTTPFailure(f"{method} {path}: {type(error).__name__}: {error}") from error
        if not keep_alive:
            self.close()
        if not data:
            return status, None
        try:
            return status, json.loads(data)
        except ValueError:
            return status, {"raw": data[:200].decode("utf-8", "replace")}

    def _readline(self) -> bytes:
        line = self.reader.readline(65537)
        if not line:
            raise HTTPFailure("connection closed by the server")
        if len(line) > 65536:
            raise HTTPFailure("header line too long")
        return line

    def _read_exact(self, count: int) -> bytes:
        data = self.reader.read(count)
        if data is None or len(data) != count:
            raise HTTPFailure(f"short body: expected {count} bytes")
        return data

    def _read_response(self, method: str):
        while True:
            status_line = self._readline()
            parts = status_line.split(None, 2)
            if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
                raise HTTPFailure(f"bad status line {status_line[:80]!r}")
            status = int(parts[1])
            version = parts[0]
            headers: dict[bytes, bytes] = {}
            while True:
                line = self._readline()
                if line in (b"\r\n", b"\n"):
                    break
                name, sep, value = line.partition(b":")
                if not sep:
                    raise HTTPFailure(f"bad header line {line[:80]!r}")
                headers[name.strip().lower()] = value.strip()
            if 100 <= status < 200:
                continue
            break
        connection = headers.get(b"connection", b"").lower()
        keep_alive = (b"close" not in connection) and (version != b"HTTP/1.0" or b"keep-alive" in connection)
        if method == "HEAD" or status in (204, 304):
            return status, b"", keep_alive
        if b"chunked" in headers.get(b"transfer-encoding", b"").lower():
            chunks = []
            while True:
                size = int(self._readline().split(b";", 1)[0].strip(), 16)
                if size == 0:
                    while self._readline() not in (b"\r\n", b"\n"):
                        pass
                    break
                chunks.append(self._read_exact(size))
                self._readline()
            return status, b"".join(chunks), keep_alive
        if b"content-length" in headers:
            return status, self._read_exact(int(headers[b"content-length"])), keep_alive
        return status, self.reader.read(), False


def wait_ready(port: int, pid: int | None, timeout: float, who: str) -> int:
    """Polls GET /readyz until it answers 200 (0), the server process `pid` exits or `timeout`
    seconds pass (1, with the reason on stderr)."""
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    while time.monotonic() < deadline:
        if pid:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                print(f"{who}: the server (pid {pid}) exited before it was ready", file=sys.stderr)
                return 1
            except PermissionError:
                pass
        client = Client(port, timeout=5)
        try:
            status, body = client.request("GET", "/readyz")
            if status == 200:
                return 0
            last = f"{status} {json.dumps(body)[:200]}"
        except HTTPFailure as error:
            last = str(error)
        finally:
            client.close()
        time.sleep(0.2)
    print(f"{who}: the server on port {port} was not ready after {timeout:.0f} s ({last})", file=sys.stderr)
    return 1


def add_wait_ready_command(subcommands) -> None:
    """The drivers' `wait-ready --port P [--timeout S] [--pid PID]` subcommand."""
    wait = subcommands.add_parser("wait-ready")
    wait.add_argument("--port", type=int, required=True)
    wait.add_argument("--timeout", type=float, default=90)
    wait.add_argument("--pid", type=int, default=0)


class Arrivals:
    """When each follower first saw each key (a task id, or a NOTIFY payload)."""

    def __init__(self):
        self.seen: dict[tuple[str, str], float] = {}
        self.condition = threading.Condition()

    def record(self, follower: str, key: str, at: float) -> None:
        with self.condition:
            self.seen.setdefault((follower, key), at)
            self.condition.notify_all()

    def wait(self, followers: list[str], key: str, timeout: float) -> dict[str, float]:
        deadline = time.monotonic() + timeout
        with self.condition:
            while True:
                found = {f: self.seen[(f, key)] for f in followers if (f, key) in self.seen}
                remaining = deadline - time.monotonic()
                if len(found) == len(followers) or remaining <= 0:
                    return found
                self.condition.wait(remaining)


def follow_long_poll(after: int, team: str, arrivals: Arrivals, stop: threading.Event, client: Client, errors: list) -> None:
    """Follows the feed from `after` by long poll (task.created of `team`), recording each task's
    arrival as the "longpoll" follower's, until `stop` is set or a request fails (into `errors`)."""
    cursor = after
    while not stop.is_set():
        try:
            status, body = client.request(
                "GET",
                f"/v1/events?after={cursor}&types=task.created&team={team}&wait_seconds=5&limit=100",
            )
        except HTTPFailure as error:
            if not stop.is_set():
                errors.append(f"long poll: {error}")
            return
        now = time.monotonic()
        if status != 200:
            errors.append(f"long poll answered {status}: {json.dumps(body)[:200]}")
            return
        for event in body["events"]:
            arrivals.record("longpoll", str(event.get("entity_id")), now)
        cursor = body["next_cursor"]
