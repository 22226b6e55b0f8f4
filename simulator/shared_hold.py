"""A claim on a SimPy resource that several processes share (a held memory).

The first process to :meth:`SharedHold.join` requests the resource; later ones
share that one request (they may overlap each other) and wait for the same
grant; when the last holder leaves, the request is released. Meanwhile no other
request on the resource is granted -- so PIM ops of a single-row-buffer memory
overlap each other but block the host's transfers.
"""

from __future__ import annotations

import simpy


class SharedHold:
    """One request on ``resource`` shared by all current holders (module docstring)."""

    def __init__(self, resource: simpy.Resource) -> None:
        self.resource = resource
        self.claim = None
        self.holders = 0

    def join(self):
        """The event to yield: granted when the shared request is."""
        if self.claim is None:
            self.claim = self.resource.request()
        self.holders += 1
        return self.claim

    def leave(self) -> None:
        if self.holders <= 0:
            raise RuntimeError("SharedHold.leave() without a matching join()")
        self.holders -= 1
        if self.holders == 0:
            self.resource.release(self.claim)
            self.claim = None
