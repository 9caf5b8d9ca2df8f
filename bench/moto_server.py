#!/usr/bin/env python3
"""The benchmark's engine: local/moto_server.py (same arguments), minus a leak of moto's.

moto keeps every model object it ever creates in a class-level list (`instances_tracked`, so
that its test decorators can reset state; a server never does), and a DynamoDB transaction
deep-copies every table it names as its rollback copy. In a server every copied item then
lives forever: memory grows with the square of the items written, and `make bench`, which
writes thousands of orders and counts them, took moto past 19 GB before this. Objects are
simply not tracked here; everything else is local/moto_server.py.
"""

import runpy
import sys
from pathlib import Path

from moto.core.common_models import BaseModel


def untracked(cls, *args, **kwargs):
    return object.__new__(cls)


BaseModel.__new__ = untracked

if __name__ == "__main__":
    launcher = Path(__file__).resolve().parent.parent / "local" / "moto_server.py"
    sys.argv[0] = str(launcher)
    runpy.run_path(str(launcher), run_name="__main__")
