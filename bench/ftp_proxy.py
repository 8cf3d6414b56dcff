#!/usr/bin/env python3
"""A small FTP control-connection proxy for the FTP benchmarks.

    python3 bench/ftp_proxy.py --listen PORT --upstream PORT --control PORT
                               [--delay-ms MS] [--data-delay-ms MS]

Listens on 127.0.0.1:PORT and relays each control connection to an FTP
server on 127.0.0.1:UPSTREAM. Every line the server sends is held back
DELAY-MS milliseconds (default 0) before it reaches the client: the server
"answers every command DELAY-MS late", like a server at the end of a slow
link (this kernel has no netem). The delay is a latency, not a rate: lines
are timestamped when they arrive and released in order, so commands a
client pipelines still overlap. Commands from the client are relayed at once.

Data connections do not go through the proxy: the client opens them
directly to the server's passive port (a 227 reply is rewritten to point at
127.0.0.1; an EPSV reply names only a port, which the client pairs with the
proxy's address, 127.0.0.1 too). With --data-delay-ms, the setup of a data
connection costs that much more: a reply that opens one (227, 229) is held
back DELAY-MS + DATA-DELAY-MS, as the client of a slow link can use its
data connection only one TCP handshake after it heard where to connect.
The delay is put on the reply rather than on the connection: a connection
held back on its way to the server could reach a passive port the session
has given up meanwhile (a RETR refused, a new PASV), which the server may
have handed to another session. The data itself is not held back.

The proxy counts what clients ask for: control sessions, and each command
verb (PASV, EPSV, RETR, STOR, LIST, MLSD, HASH, XSHA256, ...). Connect to
127.0.0.1:CONTROL and send a line:
    stats   reply one JSON object {"sessions": N, "commands": {VERB: N},
            "rounds": N, "data_connections": N (passive replies),
            "max_sessions": N,
            "retr_names": [the first 20 files RETR asked for]} and reset
            the counters. A round is a wait for the server: the greeting,
            and then the commands a client sends after it last heard from
            the server, which count once however many there are
            (pipelined commands share one round).
            max_sessions is the most control sessions open at once.
    reset   reset the counters, reply "ok"
Only the Python standard library is used; only 127.0.0.1 is ever contacted.
"""

import argparse
import asyncio
import collections
import json
import re
import signal
import socket
import sys

ADDR = "127.0.0.1"
PASV_RE = re.compile(rb"^227 (.*?)\(?(\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)?(.*)$", re.S)


class Counters:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.sessions = 0
        self.commands: collections.Counter = collections.Counter()
        self.retr_names: list = []
        self.rounds = 0
        self.data_connections = 0
        self.open_sessions = getattr(self, "open_sessions", 0)
        self.max_sessions = self.open_sessions

    def snapshot(self) -> dict:
        return {
            "sessions": self.sessions,
            "commands": dict(sorted(self.commands.items())),
            "rounds": self.rounds,
            "data_connections": self.data_connections,
            "max_sessions": self.max_sessions,
            "retr_names": self.retr_names,
        }


COUNTERS = Counters()


EPSV_RE = re.compile(rb"^229 (.*?)\(\|\|\|(\d+)\|\)(.*)$", re.S)


def passive_port(line: bytes):
    """The data port a 227 (PASV) or 229 (EPSV) reply names, or None."""
    m = PASV_RE.match(line.rstrip(b"\r\n")) if line.startswith(b"227 ") else None
    if m:
        return int(m.group(6)) * 256 + int(m.group(7))
    m = EPSV_RE.match(line.rstrip(b"\r\n")) if line.startswith(b"229 ") else None
    if m:
        return int(m.group(2))
    return None


def passive_reply(line: bytes, port: int) -> bytes:
    """A 227 or 229 reply naming 127.0.0.1:port."""
    if line.startswith(b"229 "):
        return b"229 Entering Extended Passive Mode (|||%d|)\r\n" % port
    return b"227 Entering Passive Mode (127,0,0,1,%d,%d).\r\n" % (port >> 8, port & 255)


def rewrite_reply(line: bytes) -> bytes:
    """Point a 227 (PASV) reply at 127.0.0.1, keeping its port."""
    port = passive_port(line) if line.startswith(b"227 ") else None
    return line if port is None else passive_reply(line, port)


class Session:
    """What the two directions of one control session share."""

    def __init__(self) -> None:
        # True once the server has been heard since the client last sent.
        self.heard = True


async def client_to_server(creader, swriter, session: Session) -> None:
    try:
        while True:
            line = await creader.readline()
            if not line:
                break
            if session.heard:
                COUNTERS.rounds += 1
                session.heard = False
            verb = line.split(b" ", 1)[0].strip().upper().decode("ascii", "replace")
            if verb:
                COUNTERS.commands[verb] += 1
                if verb == "RETR" and len(COUNTERS.retr_names) < 20:
                    arg = line.split(b" ", 1)[1] if b" " in line else b""
                    COUNTERS.retr_names.append(arg.strip().decode("utf-8", "replace"))
            swriter.write(line)
            await swriter.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        try:
            swriter.write_eof()
        except (OSError, RuntimeError):
            pass


async def server_to_client(sreader, cwriter, delay: float, data_delay, session: Session) -> None:
    loop = asyncio.get_running_loop()
    pending: collections.deque = collections.deque()  # (due, line); b"" = end
    arrived = asyncio.Event()

    async def read() -> None:
        try:
            while True:
                line = await sreader.readline()
                due = loop.time() + delay
                if passive_port(line) is not None:
                    COUNTERS.data_connections += 1
                    due += data_delay
                pending.append((due, rewrite_reply(line)))
                arrived.set()
                if not line:
                    return
        except ConnectionError:
            pending.append((loop.time(), b""))
            arrived.set()

    reader = asyncio.create_task(read())
    try:
        while True:
            while not pending:
                arrived.clear()
                await arrived.wait()
            due, line = pending[0]
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            # Every line that is due by now goes out in one write.
            out = []
            now = loop.time()
            while pending and pending[0][0] <= now and pending[0][1]:
                out.append(pending.popleft()[1])
            if out:
                session.heard = True
                cwriter.write(b"".join(out))
                await cwriter.drain()
            if pending and not pending[0][1] and pending[0][0] <= now:
                break
    except ConnectionError:
        pass
    finally:
        reader.cancel()
        try:
            cwriter.close()
        except (OSError, RuntimeError):
            pass


async def handle(creader, cwriter, upstream: int, delay: float, data_delay) -> None:
    COUNTERS.sessions += 1
    COUNTERS.rounds += 1  # the wait for the greeting
    COUNTERS.open_sessions += 1
    COUNTERS.max_sessions = max(COUNTERS.max_sessions, COUNTERS.open_sessions)
    session = Session()
    try:
        try:
            sreader, swriter = await asyncio.open_connection(ADDR, upstream)
        except OSError:
            cwriter.close()
            return
        for w in (cwriter, swriter):
            sock = w.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        up = asyncio.create_task(client_to_server(creader, swriter, session))
        await server_to_client(sreader, cwriter, delay, data_delay, session)
        up.cancel()
        try:
            swriter.close()
        except (OSError, RuntimeError):
            pass
    finally:
        COUNTERS.open_sessions -= 1


async def control(reader, writer) -> None:
    line = (await reader.readline()).strip().lower()
    if line == b"stats":
        reply = json.dumps(COUNTERS.snapshot())
        COUNTERS.reset()
    elif line == b"reset":
        COUNTERS.reset()
        reply = "ok"
    else:
        reply = "error: send stats or reset"
    writer.write(reply.encode() + b"\n")
    await writer.drain()
    writer.close()


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--listen", type=int, required=True)
    ap.add_argument("--upstream", type=int, required=True)
    ap.add_argument("--control", type=int, required=True)
    ap.add_argument("--delay-ms", type=float, default=0.0)
    ap.add_argument("--data-delay-ms", type=float, default=0.0)
    args = ap.parse_args()
    delay = args.delay_ms / 1000.0
    data_delay = (args.data_delay_ms or 0.0) / 1000.0
    server = await asyncio.start_server(
        lambda r, w: handle(r, w, args.upstream, delay, data_delay), ADDR, args.listen, backlog=512
    )
    ctl = await asyncio.start_server(control, ADDR, args.control)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(
        f"ftp_proxy: 127.0.0.1:{args.listen} -> 127.0.0.1:{args.upstream}, "
        f"replies {args.delay_ms:g} ms late, "
        + f"data connections set up {args.data_delay_ms:g} ms later still"
        + f", control 127.0.0.1:{args.control}",
        file=sys.stderr,
        flush=True,
    )
    async with server, ctl:
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(main())
