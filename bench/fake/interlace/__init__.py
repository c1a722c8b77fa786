"""A tiny FAKE of the interlace CLI contract, used only by ``python -m bench --selfcheck``.

It does no scheduling at all: ``run`` just executes the script as a subprocess
up to min(budget, 10) times and reports the first non-zero exit / hang.
"""
