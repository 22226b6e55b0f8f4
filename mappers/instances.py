"""Which instance of a unit a list scheduler gives the next task, in O(log instances).

The rule (an earliest-start list scheduler with a deterministic tie-break): the
instance that can start the task first -- ``max(free_at, ready)`` -- and among
equals the lowest index. So when several instances are free by ``ready`` the
lowest-numbered of them is taken, else the one that frees first. A segment
tree over the instances' free times answers both questions in O(log n), so
mapping a workload stays linear-log in the number of instances.
"""

from __future__ import annotations


class InstancePool:
    """Free times of ``count`` instances of one unit (module docstring)."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.size = 1
        while self.size < count:
            self.size *= 2
        inf = float("inf")
        self.tree = [inf] * (2 * self.size)  # the minimum free time in each subtree
        for i in range(count):
            self.tree[self.size + i] = 0
        for node in range(self.size - 1, 0, -1):
            self.tree[node] = min(self.tree[2 * node], self.tree[2 * node + 1])

    def free_at(self, instance: int) -> int:
        return self.tree[self.size + instance]

    def choose(self, ready: int) -> int:
        """The instance a task ready at ``ready`` goes to."""
        tree = self.tree
        if tree[1] <= ready:
            node = 1
            while node < self.size:  # the leftmost leaf free by ``ready``
                node = 2 * node if tree[2 * node] <= ready else 2 * node + 1
            return node - self.size
        node = 1
        while node < self.size:  # the leftmost leaf with the smallest free time
            node = 2 * node if tree[2 * node] <= tree[2 * node + 1] else 2 * node + 1
        return node - self.size

    def occupy(self, instance: int, until: int) -> None:
        node = self.size + instance
        self.tree[node] = until
        node //= 2
        while node:
            self.tree[node] = min(self.tree[2 * node], self.tree[2 * node + 1])
            node //= 2
