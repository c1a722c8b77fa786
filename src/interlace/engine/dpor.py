"""Systematic exploration: dynamic partial-order reduction with source sets and sleep sets.

The algorithm is Source-DPOR (Abdulla, Aronis, Jonsson, Sagonas, POPL 2014), run statelessly:
every execution is a fresh fork that replays a *prefix* of choices and then runs on.  After
each execution the explorer looks for *races*: two dependent transitions of different threads
with nothing ordering them but the schedule.  For each race it makes sure that, at the state
before the first transition, some thread that can start the reversed order is scheduled in a
later execution.  Sleep sets keep an execution from starting with a thread whose run from that
state was already explored and not disturbed since.

Vocabulary (one concept each):
- a *transition* is what one thread does between two choice points; its *footprint* is the set
  of locations it touched (see :class:`~interlace.runtime.events.Footprint`);
- a *node* is the state before a choice point on the current path;
- two executions are *equivalent* when they order every pair of dependent transitions the
  same way (one Mazurkiewicz trace); DPOR runs at least one execution per equivalence class.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Optional

from ..outcome import Outcome
from ..runtime.events import Footprint, Sleeper


@dataclass
class Transition:
    tid: int
    footprint: Footprint
    #: Locks acquired (their ``("sync", n, None)`` locations).  Two acquisitions of one lock race with
    #: each other even though the first thread's release orders them.
    acquires: frozenset = frozenset()
    #: Primitives this transition hands on (releases a lock, starts or ends a thread)...
    enables: frozenset = frozenset()
    #: ...and those it needed handed on (acquires a lock, begins, returns from a join).
    #: Such an order cannot be reversed: it is cause and effect, not a race.
    needs: frozenset = frozenset()


@dataclass(eq=False)
class Node:
    """The state before one choice point (kept while it or a descendant has alternatives)."""

    #: Threads that could run here (the runnable ones, plus timed waiters whose timeout is due).
    enabled: tuple[int, ...]
    #: The thread that ran into this choice point and could go on (``None``: it blocked or ended),
    #: so choosing another thread here is a preemption.
    running: Optional[int]
    #: The thread chosen on the current path.
    chosen: int
    #: Preemptions on the path before this node.
    preemptions_before: int
    #: Objects numbered when the execution reached this node (see ``Sleeper``).
    base: int
    #: Threads that must be tried first from here (source set); includes explored ones.
    backtrack: set[int] = field(default_factory=set)
    #: Threads already tried first from here, with the transition each made.
    explored: dict[int, Footprint] = field(default_factory=dict)
    #: Threads asleep on entry: trying them first here would repeat explored executions.
    sleep: dict[int, Sleeper] = field(default_factory=dict)
    #: The node before, and the thread chosen there to get here (the tree's edges).
    parent: Optional["Node"] = None
    via: Optional[int] = None
    #: The choice point's number (1-based step).
    depth: int = 0

    def passed_sleep(self) -> dict[int, Sleeper]:
        """The sleep set the chosen thread's transition starts from."""
        out = dict(self.sleep)
        for tid, fp in self.explored.items():
            if tid != self.chosen:
                out[tid] = Sleeper.of(fp, self.base)
        return out

    def cost(self, tid: int) -> int:
        """Preemptions on the path up to and including choosing ``tid`` here."""
        return self.preemptions_before + (self.running is not None and tid != self.running)

    def pending(self) -> set[int]:
        return self.backtrack - self.explored.keys() - self.sleep.keys()


@dataclass
class Branch:
    """The next execution to run: follow ``prefix``, with ``sleep`` asleep at its end."""

    prefix: tuple[int, ...]
    sleep: dict[int, Sleeper]
    #: The tree's nodes along ``prefix`` (empty for a tree's first execution).
    nodes: tuple["Node", ...] = ()

    @property
    def node(self) -> int:
        """The choice point (1-based step) where this branch differs from explored ones."""
        return len(self.prefix)


class Explorer:
    """The exploration tree of one DPOR search.

    Only nodes with unexplored alternatives (and their ancestors) are kept.  Alternatives are
    explored in order of their cost in preemptions, then deepest first: every execution
    without a preemption, then those with one, and so on (CHESS's iterative context bounding,
    without re-running the cheaper levels).  Bugs usually need one or two preemptions, and a
    plain depth-first search would first permute the end of a long run for thousands of
    executions before revisiting an early choice.  The order only changes when an
    alternative runs: the exhausted tree is the same.
    """

    def __init__(self, *, reduce: bool = True, preemption_bound: Optional[int] = None,
                 root: tuple[int, ...] = (), root_sleep: Optional[dict[int, Sleeper]] = None) -> None:
        #: ``False``: explore every schedule (brute force; used to check the reduction).
        self.reduce = reduce
        self.preemption_bound = preemption_bound
        #: Explore only the subtree below these first choices (a part of a split search,
        #: see :mod:`interlace.engine.partition`).  Nothing is tried at the root's own choice
        #: points: the split already runs every alternative there.
        self.root = root
        #: ``path[s - 1]`` is the node before choice point ``s``.
        self.path: list[Node] = []
        #: Executions that ran to the end, and those stopped by their sleep set.
        self.complete = 0
        self.sleep_blocked = 0
        #: Backtrack points dropped by the preemption bound (the bound made the search partial).
        self.bounded_out = 0
        #: Set when a replayed prefix did not repeat what it did before (nondeterminism).
        self.divergence: Optional[str] = None
        self._branch = Branch(root, dict(root_sleep or {}))
        #: Alternatives not yet run, as ``(cost, -depth, order, node, tid)``: a heap.
        self._queue: list[tuple[int, int, int, Node, int]] = []
        self._order = 0
        #: The previous execution's happens-before, whose clocks the next one reuses for the
        #: transitions the two share from the start.
        self._last_hb: Optional["HappensBefore"] = None

    # -- the loop ------------------------------------------------------------------------------

    def first(self) -> Branch:
        return self._branch

    def record(self, outcome: Outcome, branch: Optional[Branch] = None) -> None:
        """Fold one finished execution of ``branch`` (default: the last one returned) into the tree.

        Several branches may be out at once (``--jobs``); each is folded in on its own.
        """
        if branch is not None:
            self._follow(branch)
        choices = outcome.choices or []
        events = outcome.events or []
        asleep = outcome.asleep_from
        if asleep is not None:
            # It ran on past the point where only sleeping threads could run (a preemption
            # bound is in force), to check the end state; fold in only what came before, so
            # that the bound never adds alternatives the unbounded search would not have.
            choices = choices[:asleep - 1]
            events = [e for e in events if e["step"] < asleep]
        if outcome.sleep_blocked or asleep is not None:
            self.sleep_blocked += 1
        else:
            self.complete += 1
        transitions = _transitions(events, choices)
        start = self._branch.node
        if len(self.path) < start:  # a subtree's first execution: lay down its root path
            self._extend(0, choices[:start], transitions)
        self._check_prefix(start, transitions)
        if start:
            self.path[start - 1].explored[self.path[start - 1].chosen] = transitions[start].footprint
        self._extend(start, choices, transitions)
        if self.reduce:
            hb = HappensBefore(transitions, self._last_hb)
            self._last_hb = hb
            for j in range(max(start, 1), len(transitions)):
                for i in hb.races(j):
                    self._reverse(i, j, transitions, hb.clocks)
        else:
            for step in range(start + 1, len(self.path) + 1):
                for tid in self.path[step - 1].enabled:
                    self._add_backtrack(step, tid)

    def next(self) -> Optional[Branch]:
        """The cheapest unexplored alternative, or ``None`` when the tree is exhausted."""
        while self._queue:
            _, _, _, node, tid = heapq.heappop(self._queue)
            if tid in node.pending():
                break
        else:
            return None
        path = [node]
        while path[-1].parent is not None:
            path.append(path[-1].parent)
        path.reverse()
        prefix = tuple(child.via for child in path[1:]) + (tid,)
        self._follow(Branch(prefix, {}, tuple(path)))
        sleep = node.passed_sleep() if self.reduce else {}
        self._branch = Branch(prefix, sleep, tuple(path))
        return self._branch

    def _follow(self, branch: Branch) -> None:
        """Make ``branch``'s path the current one (each node's ``chosen`` as on it)."""
        self._branch = branch
        self.path = list(branch.nodes)
        for node, tid in zip(self.path, branch.prefix):
            node.chosen = tid

    def pending_alternatives(self) -> int:
        """Alternatives known but not yet explored (grows as races are found)."""
        return len(self._queue)

    # -- building the path ---------------------------------------------------------------------

    def _extend(self, start: int, choices: list, transitions: list[Transition]) -> None:
        """Add the nodes this execution created after its branch point."""
        for step in range(start + 1, len(choices) + 1):
            enabled, chosen, running, base = choices[step - 1]
            if step - 1 >= 1:
                before = self.path[step - 2]
                pre = before.cost(before.chosen)
                # the first new node: the sleep set the execution ran with (a sibling folded in
                # meanwhile, under --jobs, was not in it)
                asleep = self._branch.sleep if step == start + 1 and start else before.passed_sleep()
                sleep = {tid: s for tid, s in asleep.items()
                         if not s.woken_by(transitions[step - 1].footprint)} if self.reduce else {}
            else:
                pre, sleep = 0, {}
            parent = self.path[step - 2] if step >= 2 else None
            node = Node(tuple(enabled), running, chosen, pre, base, {chosen}, {}, sleep,
                        parent, parent.chosen if parent is not None else None, step)
            if step < len(transitions):
                node.explored[chosen] = transitions[step].footprint
            self.path.append(node)

    def _check_prefix(self, start: int, transitions: list[Transition]) -> None:
        """The replayed prefix must do exactly what it did when it was first explored."""
        for step in range(1, min(start, len(transitions))):
            node = self.path[step - 1]
            before = node.explored.get(node.chosen)
            now = transitions[step]
            if before is not None and (now.tid != node.chosen or now.footprint.locations != before.locations):
                self.divergence = _difference(step, node.chosen, now, before)
                return

    # -- races ---------------------------------------------------------------------------------

    def _reverse(self, i: int, j: int, transitions: list[Transition], clocks: list[dict]) -> None:
        """Make sure some execution runs the race ``i`` < ``j`` the other way round."""
        if i <= len(self.root):
            return  # before the first choice point only the main thread exists; the root's
            # choice points have every alternative run by the split
        node = self.path[i - 1]
        initials = _initials(i, j, transitions, clocks)
        if initials & node.backtrack or initials & node.sleep.keys():
            return
        candidates = sorted(t for t in initials if t in node.enabled)
        if not candidates:  # the reversal starts with a thread blocked here: try every thread
            candidates = list(node.enabled)
            choice = [t for t in candidates if t not in node.backtrack]
        else:
            q = transitions[j].tid
            choice = [q if q in candidates else candidates[0]]
        for tid in choice:
            self._add_backtrack(i, tid)

    def _add_backtrack(self, step: int, tid: int) -> None:
        node = self.path[step - 1]
        bound = self.preemption_bound
        if bound is None or node.cost(tid) <= bound:
            self._queue_alternative(node, tid)
            return
        if not self.reduce:
            return  # brute force within the bound: that schedule is simply out of bounds
        # Bounded partial-order reduction (Coons et al., 2013): the switch would cost one
        # preemption too many here; try it where the running thread's current run began,
        # where switching is free.
        start = step
        while start > 1 and self.path[start - 2].chosen == node.running:
            start -= 1
        earlier = self.path[start - 1]
        if start != step and tid in earlier.enabled and earlier.cost(tid) <= bound:
            self._queue_alternative(earlier, tid)
        else:
            self.bounded_out += 1

    def _queue_alternative(self, node: Node, tid: int) -> None:
        if tid in node.backtrack or node.depth <= len(self.root):
            return
        node.backtrack.add(tid)
        if tid in node.pending():
            self._order += 1
            heapq.heappush(self._queue, (node.cost(tid), -node.depth, self._order, node, tid))


def _difference(step: int, chosen: int, now: Transition, before: Footprint) -> str:
    """The first access that differed between two runs of one prefix, and both footprints."""
    def show(locations: dict) -> str:
        return "{" + ", ".join(f"{'write' if w else 'read'} {_show_location(loc)}"
                               for loc, w in locations.items()) + "}"
    if now.tid != chosen:
        return f"at step {step}, thread {now.tid} ran where thread {chosen} had run"
    first = next((loc for loc in now.footprint.locations
                  if before.locations.get(loc) != now.footprint.locations[loc]), None)
    if first is None:
        first = next(loc for loc in before.locations if loc not in now.footprint.locations)
    return (f"at step {step}, thread {now.tid} first differed at {_show_location(first)}; "
            f"it touched {show(now.footprint.locations)} where it had touched "
            f"{show(before.locations)}")


def _show_location(loc: tuple) -> str:
    space, obj, key = (tuple(loc) + (None, None))[:3]
    if space == "obj":
        return f"object #{obj}" + ("" if key is None else f"[{key!r}]")
    if space == "sync":
        return f"primitive #{obj}"
    if space == "cell":
        return f"cell {key}"
    return str(space)


def _transitions(events: list[dict], choices: list) -> list[Transition]:
    """Transition ``s`` is what ran after choice point ``s`` (0: the main thread's start)."""
    count = len(choices) + 1
    footprints = [Footprint() for _ in range(count)]
    special: list[Optional[dict[str, set]]] = [None] * count  # kind -> locations, sync kinds only
    for event in events:
        step = event["step"]
        location = event.get("location")
        if step >= count or location is None:
            continue
        location = tuple(location)
        footprints[step].add(location, bool(event.get("write")))
        kind = event["kind"]
        if kind in _SPECIAL:
            kinds = special[step]
            if kinds is None:
                kinds = special[step] = {}
            kinds.setdefault(kind, set()).add(location)
    tids = [0] + [choice[1] for choice in choices]
    out = []
    for s in range(count):
        kinds = special[s]
        if kinds is None:  # most transitions: plain accesses, no synchronisation
            out.append(Transition(tids[s], footprints[s], _NONE, _NONE, _NONE))
        else:
            out.append(Transition(tids[s], footprints[s], _of(kinds, ("acquire",)),
                                  _of(kinds, _ENABLING), _of(kinds, _NEEDING)))
    return out


_NONE: frozenset = frozenset()


_ENABLING = ("release", "start", "end")
_NEEDING = ("acquire", "begin", "join")
_SPECIAL = frozenset(_ENABLING + _NEEDING)


def _of(kinds: dict[str, set], wanted: tuple[str, ...]) -> frozenset:
    out: set = set()
    for kind in wanted:
        out.update(kinds.get(kind, ()))
    return frozenset(out)


class _Accesses:
    """The accesses to one location (or one key of an object) that later ones depend on:
    the last write, and the last read of each thread since.  An earlier access is ordered
    before one of these, so it never needs looking at again (this is what makes the
    analysis linear in the execution's length instead of quadratic)."""

    __slots__ = ("write", "reads")

    def __init__(self) -> None:
        self.write: Optional[int] = None
        self.reads: dict[int, int] = {}


class HappensBefore:
    """Happens-before of one execution's transitions, computed in one forward pass.

    Happens-before is program order plus the order of dependent transitions.  For each
    transition ``j`` the pass finds the earlier transitions of other threads it depends on
    *directly* (``dependent[j]``: through each location, only the last write and the reads
    since), its vector clock (``clocks[j][t]``: the last transition of thread ``t`` that
    happens before ``j``, or is it), its thread's previous transition, and for each lock it
    acquires the previous acquisition.  Every race of ``j`` is among ``dependent[j]``: any
    other dependent transition is ordered before one of them.

    ``previous``: the happens-before of the execution before; the clocks of the transitions
    both executions share from the start (same threads, same footprints) are reused.
    """

    def __init__(self, transitions: list[Transition], previous: Optional["HappensBefore"] = None) -> None:
        self.transitions = transitions
        self.clocks: list[dict[int, int]] = []
        self.dependent: list[list[int]] = []
        self.previous_of: list[Optional[int]] = []
        self.previous_acquisition: list[dict[tuple, int]] = []
        reuse = _shared_prefix(previous.transitions, transitions) if previous is not None else 0
        locations: dict[object, _Accesses] = {}
        keys: dict[object, list[_Accesses]] = {}  # object -> the states of its keys
        last_of: dict[int, int] = {}
        acquired: dict[tuple, int] = {}
        for j, tr in enumerate(transitions):
            tid = tr.tid
            found: set[int] = set()
            for loc, write in tr.footprint.locations.items():
                for state in _related(loc, locations, keys):
                    if state.write is not None:
                        found.add(state.write)
                    if write:
                        found.update(state.reads.values())
            dependent = sorted(i for i in found if transitions[i].tid != tid)
            before = last_of.get(tid)
            if j < reuse:
                clock = previous.clocks[j]
            else:
                clock = dict(self.clocks[before]) if before is not None else {}
                for i in dependent:
                    for t, k in self.clocks[i].items():
                        if clock.get(t, -1) < k:
                            clock[t] = k
                clock[tid] = j
            self.clocks.append(clock)
            self.dependent.append(dependent)
            self.previous_of.append(before)
            self.previous_acquisition.append({lock: acquired[lock] for lock in tr.acquires if lock in acquired})
            for loc, write in tr.footprint.locations.items():
                state = _state(loc, locations, keys)
                if write:
                    state.write = j
                    state.reads = {}
                else:
                    state.reads[tid] = j
            for lock in tr.acquires:
                acquired[lock] = j
            last_of[tid] = j

    def races(self, j: int) -> list[int]:
        """Transitions ``i`` < ``j`` in a race with ``j``: dependent, and ordered only by the schedule."""
        transitions, clocks = self.transitions, self.clocks
        tr = transitions[j]
        previous = self.previous_of[j]
        base = clocks[previous] if previous is not None else {}
        dependent = self.dependent[j]
        races = []
        for i in dependent:
            ti = transitions[i].tid
            if base.get(ti, -1) >= i:
                continue
            # not a race if it reaches j through another dependent transition
            if any(k > i and clocks[k].get(ti, -1) >= i for k in dependent):
                continue
            if _only_handoff(transitions[i], tr):
                continue  # cause and effect; for locks, the rule below reverses the acquisitions
            races.append(i)
        for lock in tr.acquires:
            i = self.previous_acquisition[j].get(lock)
            if i is not None and transitions[i].tid != tr.tid and base.get(transitions[i].tid, -1) < i \
                    and i not in races:
                races.append(i)
        return races


def _shared_prefix(before: list[Transition], now: list[Transition]) -> int:
    """How many transitions, from the start, two executions have in common."""
    n = 0
    for old, new in zip(before, now):
        if old.tid != new.tid or old.acquires != new.acquires \
                or old.footprint.locations != new.footprint.locations:
            break
        n += 1
    return n


def _state(loc: tuple, locations: dict, keys: dict) -> _Accesses:
    state = locations.get(loc)
    if state is None:
        state = locations[loc] = _Accesses()
        if loc[0] == "obj" and loc[2] is not None:
            keys.setdefault(loc[1], []).append(state)
    return state


def _related(loc: tuple, locations: dict, keys: dict) -> list[_Accesses]:
    """The states an access to ``loc`` may conflict with: the location itself; for a key of
    an object also the whole object, for the whole object also every key."""
    out = []
    state = locations.get(loc)
    if state is not None:
        out.append(state)
    if loc[0] == "obj":
        if loc[2] is not None:
            whole = locations.get(("obj", loc[1], None))
            if whole is not None:
                out.append(whole)
        else:
            out.extend(keys.get(loc[1], ()))
    return out


def _only_handoff(first: Transition, then: Transition) -> bool:
    """Do the two transitions depend on each other only through ``first`` handing on what
    ``then`` needs (a lock, a started or ended thread)?  ``then`` could not go first."""
    handoff = first.enables & then.needs
    if not handoff:
        return False
    rest = Footprint()
    for loc, write in first.footprint.locations.items():
        if loc not in handoff:
            rest.add(loc, write)
    return not rest.conflicts(then.footprint)


def _initials(i: int, j: int, transitions: list[Transition], clocks: list[dict]) -> set[int]:
    """Threads that can start ``notdep(i).j``: what runs after ``i`` without depending on it."""
    ti = transitions[i].tid
    v = [k for k in range(i + 1, j) if clocks[k].get(ti, -1) < i] + [j]
    initials: set[int] = set()
    seen_threads: set[int] = set()
    #: thread -> its first transition in ``v`` (clocks grow along a thread, so a transition
    #: after some of ``v`` comes after that thread's first one there)
    first_of: dict[int, int] = {}
    for k in v:
        tk = transitions[k].tid
        if tk not in seen_threads:
            seen_threads.add(tk)
            clock = clocks[k]
            if not any(clock.get(t, -1) >= m for t, m in first_of.items()):
                initials.add(tk)
        first_of.setdefault(tk, k)
    return initials
