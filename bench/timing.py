"""Side-by-side timing: contenders take turns in shuffled order, each figure is a median."""

import contextlib
import statistics
import time


def compare(contenders, inputs, repeat, rng, scanning=(), scanning_repeat=None, around=None):
    """Time each contender on the same inputs, interleaved; returns ``{name: summary}``.

    ``contenders`` maps a name to ``call(input)``; ``inputs(round)`` gives one round's input per
    contender. Contenders named in ``scanning`` read the whole table per call, so they run on
    ``scanning_repeat`` rounds spread evenly over the ``repeat`` rounds, not on every round.
    ``around`` maps a name to a context manager factory entered around each of its calls,
    outside the timed part (plain Django: authfold's receivers disconnected).
    """
    around = around or {}
    untimed = contextlib.nullcontext
    scanning_repeat = min(scanning_repeat or repeat, repeat)
    stride = max(1, repeat // scanning_repeat)
    durations = {name: [] for name in contenders}
    outcomes = {name: [] for name in contenders}
    for name, call in contenders.items():  # warm-up: connections, caches, the plan cache
        with around.get(name, untimed)():
            call(inputs(-1)[name])
    for round_number in range(repeat):
        given = inputs(round_number)
        names = [
            name
            for name in contenders
            if name not in scanning
            or (round_number % stride == 0 and len(durations[name]) < scanning_repeat)
        ]
        rng.shuffle(names)
        for name in names:
            with around.get(name, untimed)():
                started = time.perf_counter()
                outcome = contenders[name](given[name])
                durations[name].append(time.perf_counter() - started)
            outcomes[name].append(outcome)
    return {name: summarize(durations[name], outcomes[name]) for name in contenders}


def summarize(durations, outcomes):
    """Median and spread in milliseconds, and how many calls gave a true outcome."""
    ordered = sorted(durations)
    return {
        "repetitions": len(ordered),
        "median_ms": statistics.median(ordered) * 1000,
        "p10_ms": ordered[len(ordered) // 10] * 1000,
        "p90_ms": ordered[len(ordered) * 9 // 10] * 1000,
        "true_outcomes": sum(1 for outcome in outcomes if outcome),
    }


def timed(call):
    """``(seconds, result)`` of one call."""
    started = time.perf_counter()
    result = call()
    return time.perf_counter() - started, result
