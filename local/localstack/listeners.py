#!/usr/bin/env python3
"""Which TCP ports a process tree listens on, and whether anything beyond this machine can
reach them: `listeners.py PID...` (the PIDs and all their descendants).

LocalStack runs DynamoDB Local as a Java child process, which binds every interface (it has no
bind-address option); scripts/localstack.sh therefore runs LocalStack in a network namespace
of its own that has nothing but a loopback device. A listener is safe when it is bound to a
loopback address, or when its network namespace has no device but `lo`. The kernel's own tables
are read (/proc/PID/net/tcp, tcp6 and dev show the namespace of PID), so the sockets inside the
namespace are seen as well as those of the host.

Prints one line per listener; exits 1 if any listener is reachable beyond loopback.
"""

import ipaddress
import os
import socket
import sys
from dataclasses import dataclass

LISTEN = "0A"


@dataclass
class Listener:
    pid: int
    command: str
    address: ipaddress.IPv4Address | ipaddress.IPv6Address
    port: int
    devices: tuple[str, ...]  # the network devices of the socket's namespace

    @property
    def namespace_isolated(self):
        return set(self.devices) <= {"lo"}

    @property
    def exposed(self):
        address = self.address
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        return not address.is_loopback and not self.namespace_isolated

    def __str__(self):
        where = "isolated namespace (lo only)" if self.namespace_isolated else "namespace " + ",".join(self.devices)
        verdict = "EXPOSED" if self.exposed else "loopback only"
        host = f"[{self.address}]" if self.address.version == 6 else str(self.address)
        return f"{verdict}: pid {self.pid} ({self.command}) listens on {host}:{self.port}, {where}"


def descendants(roots):
    """The given PIDs that exist, and every process below them."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                stat = handle.read()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry))
    found, todo = [], [pid for pid in roots if os.path.exists(f"/proc/{pid}")]
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.append(pid)
            todo.extend(children.get(pid, []))
    return found


def _address(hex_address):
    raw = bytes.fromhex(hex_address)
    # The kernel prints each 32-bit word in host byte order (little-endian here).
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    return ipaddress.ip_address(words)


def _read(path):
    try:
        with open(path) as handle:
            return handle.read().splitlines()
    except OSError:
        return []


def listeners_of(pid):
    try:
        inodes = {
            os.readlink(f"/proc/{pid}/fd/{fd}")[len("socket:[") : -1]
            for fd in os.listdir(f"/proc/{pid}/fd")
            if os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:[")
        }
        with open(f"/proc/{pid}/comm") as handle:
            command = handle.read().strip()
    except OSError:  # gone meanwhile
        return []
    devices = tuple(line.split(":", 1)[0].strip() for line in _read(f"/proc/{pid}/net/dev")[2:])
    found = []
    for table in ("tcp", "tcp6"):
        for line in _read(f"/proc/{pid}/net/{table}")[1:]:
            fields = line.split()
            if fields[3] != LISTEN or fields[9] not in inodes:
                continue
            host, port = fields[1].split(":")
            found.append(Listener(pid, command, _address(host), int(port, 16), devices))
    return found


def listeners(roots):
    return [listener for pid in descendants(roots) for listener in listeners_of(pid)]


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    found = listeners([int(pid) for pid in sys.argv[1:]])
    for listener in found:
        print(listener)
    if not found:
        print(f"no listener in the process tree of {' '.join(sys.argv[1:])} on {socket.gethostname()}")
    sys.exit(1 if any(listener.exposed for listener in found) else 0)


if __name__ == "__main__":
    main()
