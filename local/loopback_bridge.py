#!/usr/bin/env python3
"""Forwards connections from one address to another: `tcp:HOST:PORT` or `unix:PATH`.

DynamoDB Local has no bind-address option and listens on every interface. The test scripts run
it inside a network namespace of its own, which has nothing but a loopback device, and reach it
through a Unix socket (the one thing both namespaces share, through the file system):

    host 127.0.0.1:PORT  --bridge-->  unix:SOCKET  --bridge (inside the namespace)-->  127.0.0.1:PORT

  loopback_bridge.py LISTEN TARGET      e.g.  tcp:127.0.0.1:8100 unix:/tmp/ddb.sock
"""

import asyncio
import sys


async def open_target(address):
    kind, _, rest = address.partition(":")
    if kind == "unix":
        return await asyncio.open_unix_connection(rest)
    host, _, port = rest.rpartition(":")
    return await asyncio.open_connection(host, int(port))


async def pipe(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


async def serve(listen, target):
    async def handle(client_reader, client_writer):
        try:
            target_reader, target_writer = await open_target(target)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(pipe(client_reader, target_writer), pipe(target_reader, client_writer))

    kind, _, rest = listen.partition(":")
    if kind == "unix":
        server = await asyncio.start_unix_server(handle, rest)
    else:
        host, _, port = rest.rpartition(":")
        server = await asyncio.start_server(handle, host, int(port))
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    asyncio.run(serve(sys.argv[1], sys.argv[2]))
