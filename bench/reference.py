"""The raw reference server: the least a Python WebSocket fan-out can cost on this machine.

A plain ``websockets`` server that keeps a set of open connections and sends
each message to all of them with ``websockets.broadcast``. It has no Django,
no database and no channel layer: the publisher (``bench/run.py``) writes one
frame a line to its standard input, and it broadcasts the line as it is.
Measured with the same load generator as the product, it gives the floor the
product's figures are compared with.

Usage: ``python bench/reference.py PORT`` (prints "listening" once it listens).
"""

from __future__ import annotations

import asyncio
import resource
import sys

from websockets.asyncio.server import ServerConnection, broadcast, serve


async def main(port: int) -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    connections: set[ServerConnection] = set()

    async def handler(connection: ServerConnection) -> None:
        connections.add(connection)
        try:
            await connection.wait_closed()
        finally:
            connections.discard(connection)

    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader(limit=2**24)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    # Same client-facing choices as daphne: no compression, no server pings.
    async with serve(
        handler, "127.0.0.1", port, compression=None, ping_interval=None, max_size=2**16
    ):
        print("listening", flush=True)
        while line := await stdin.readline():
            broadcast(connections, line.rstrip(b"\n").decode())


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
