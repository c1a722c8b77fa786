"""One Ctrl-C stops `--model all` as a whole (no execution runs here: the search is faked)."""

from interlace.engine import allmodels
from interlace.engine.search import SearchConfig, SearchResult


def test_one_interrupt_stops_every_later_model(monkeypatch):
    searched = []

    def fake_search(config, progress=None):
        searched.append(config.model)
        return SearchResult("no-bug-found", config, 3, 0.1, "interrupt")

    monkeypatch.setattr(allmodels, "search", fake_search)
    result, verdicts = allmodels.search_all_models(SearchConfig(script="x.py", timeout=30))
    assert searched == [allmodels.ORDER[0]]
    assert [v.status for v in verdicts].count(allmodels.NOT_SEARCHED) == len(allmodels.ORDER) - 1
    assert result.stopped_by == "interrupt"
