"""The API's replay hint is a line a user can paste (no search runs here)."""

from interlace.api import replay_arguments, replay_hint


class Counter:
    def __init__(self):
        self.n = 0

    def increment(self):
        self.n += 1


def make():
    return Counter()


def check(counter):
    return counter.n == 2


def test_a_method_is_spelled_with_its_class():
    args = replay_arguments(make, [Counter.increment] * 2, check)
    assert args == "make, [Counter.increment, Counter.increment], check"
    assert replay_hint("il1:x", args) == \
        "interlace.replay('il1:x', make, [Counter.increment, Counter.increment], check)"


def test_lambda_gives_a_hint_that_says_which_arguments():
    args = replay_arguments(make, [Counter.increment, lambda c: None], None)
    assert args is None
    hint = replay_hint("il1:x", args)
    assert hint.startswith("interlace.replay('il1:x', setup, workers, invariant)")
    assert "same setup, workers and invariant" in hint


def test_local_functions_are_not_typeable():
    def local(counter):
        pass

    assert replay_arguments(make, [local], None) is None
    assert replay_arguments(make, [Counter.increment, make], None) == "make, [Counter.increment, make]"


def test_the_report_never_breaks_a_sentence():
    from interlace.api import render
    from interlace.engine.search import SearchConfig, SearchResult
    long_warning = "a caveat " * 40
    result = SearchResult("no-bug-found", SearchConfig(script="/x/" + "deep/" * 30 + "s.py"), 7, 1.0,
                          "budget", warnings=[long_warning.strip()])
    text = render(result)
    assert f"warning: {long_warning.strip()}\n" in text
    assert all(line.startswith(("No bug found", "This is not", "warning:")) for line in text.splitlines())
