"""``--races``: the data races a search found, for people (terminal) and programs (JSON)."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from ..runtime.races import Race
from .console import short_path


def print_races(races: list[Race], replay_hint, console: Console) -> None:
    """``replay_hint(token)``: the command or call that replays a token."""
    console.print()
    if not races:
        console.print(Text("No data race found in the executions explored (happens-before "
                           "over interlace's primitives; not a proof).", style="green"))
        return
    console.print(Text(f"DATA RACE{'S' if len(races) > 1 else ''}: {len(races)} pair"
                       f"{'s' if len(races) > 1 else ''} of source lines access the same location "
                       "without happens-before ordering", style="bold red"))
    for number, race in enumerate(races, 1):
        console.print()
        console.print(Text(f"Race {number}: {race.location}", style="bold"))
        for side in race.accesses:
            where = f"{short_path(side.file)}:{side.line}"
            console.print(Text(f"  {side.kind:<5} by {side.thread} at {where}  {side.code}"))
            for file, line, function in side.stack[1:]:
                console.print(Text(f"        called from {function} at {short_path(file)}:{line}",
                                   style="dim"))
        if race.adjacent:
            console.print("  Replay an execution in which the two accesses run back to back:")
        else:
            console.print("  interlace could not build an execution with the two accesses back to "
                          "back; replay the one the race was found in:")
        console.print(Text("    " + replay_hint(race.schedule)))


def races_json(races: list[Race]) -> list[dict]:
    return [race.as_dict() for race in races]


