"""The checks a schedule passes when it is built: every name declared, no cycle.

A task names its unit and instance, the memories of its traffic, the memories
it holds and the ops it depends on; each must be declared by the schedule (the
system's units and memories, the schedule's own ops). The op graph the
dependencies form must be acyclic. A failure is a :class:`ScheduleError` that
names the task, the bad name and the declared ones, or the ops of the cycle, so
a misspelt name is an error, never a free transfer or a silent skip.
"""

from __future__ import annotations


class ScheduleError(ValueError):
    """A schedule names something undeclared or its dependencies form a cycle."""


def check_schedule(schedule) -> None:
    """Raise :class:`ScheduleError` for the first problem of ``schedule`` (module docstring)."""
    units = {u.name: u for u in schedule.units}
    memories = {m.name for m in schedule.memories}
    groups: dict[str, list[str]] = {}
    names = set()
    for task in schedule.tasks:
        if task.name in names:
            raise ScheduleError(f"task {task.name!r} appears twice in the schedule")
        names.add(task.name)
        _check_task(task, units, memories)
        groups.setdefault(task.group, []).append(task.name)
    for task in schedule.tasks:
        for dep in task.deps:
            if dep not in groups:
                raise ScheduleError(f"task {task.name!r} depends on {dep!r}, which is not an op of the schedule"
                                    f"{_hint(dep, groups)}")
    cycle = _find_cycle({g: set() for g in groups} | _group_edges(schedule))
    if cycle:
        tasks = [t for g in cycle for t in groups[g]]
        raise ScheduleError(f"the schedule's dependencies form a cycle: {' -> '.join(cycle + cycle[:1])} "
                            f"(tasks {', '.join(tasks[:8])}{' ...' if len(tasks) > 8 else ''})")


def _check_task(task, units, memories) -> None:
    unit = units.get(task.unit)
    if unit is None:
        raise ScheduleError(f"task {task.name!r}: unit {task.unit!r} is not declared (units: {_known(units)})")
    if not 0 <= task.instance < unit.count:
        raise ScheduleError(f"task {task.name!r}: instance {task.instance} of unit {task.unit!r} does not exist "
                            f"(it has {unit.count})")
    if task.cost.unit != task.unit:
        raise ScheduleError(f"task {task.name!r}: bound to unit {task.unit!r} but its cost is for {task.cost.unit!r}")
    for memory in task.cost.memories:
        if memory not in memories:
            raise ScheduleError(f"task {task.name!r}: its traffic names memory {memory!r}, which is not declared "
                                f"(memories: {_known(memories)})")
    for memory in task.cost.holds:
        if memory not in memories:
            raise ScheduleError(f"task {task.name!r}: it holds memory {memory!r}, which is not declared "
                                f"(memories: {_known(memories)})")


def _group_edges(schedule) -> dict[str, set[str]]:
    """Each op's successors (dependency -> dependent)."""
    edges: dict[str, set[str]] = {}
    for task in schedule.tasks:
        for dep in task.deps:
            edges.setdefault(dep, set()).add(task.group)
    return edges


def _find_cycle(edges: dict[str, set[str]]) -> list[str]:
    """One cycle of the graph as a list of nodes, or [] (iterative depth-first search)."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    for root in sorted(edges):
        if state.get(root):
            continue
        path, stack = [root], [iter(sorted(edges.get(root, ())))]
        state[root] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return path[path.index(nxt):]
            elif not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(sorted(edges.get(nxt, ()))))
    return []


def _known(names) -> str:
    return ", ".join(sorted(names)) or "none"


def _hint(name: str, known) -> str:
    import difflib
    close = difflib.get_close_matches(name, list(known), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""
