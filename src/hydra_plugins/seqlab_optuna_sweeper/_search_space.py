"""Hydra's sweep grammar to Optuna distributions.

    choice(64, 128, 256) or 64,128,256  -> CategoricalDistribution
    range(16, 129, 16)                  -> IntDistribution(16, 128, step=16) (floats: categorical)
    interval(0.0, 0.5)                  -> FloatDistribution (IntDistribution with tag(int, ...))
    tag(log, interval(1e-4, 1e-2))      -> FloatDistribution(log=True)
    anything else                       -> a fixed value, passed to every trial as it is
"""

from __future__ import annotations

from hydra.core.override_parser.types import ChoiceSweep, IntervalSweep, Override, RangeSweep
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)


def distribution(override: Override) -> BaseDistribution | None:
    """The Optuna distribution of a sweep override, or None when `override` is a fixed value."""
    if not override.is_sweep_override():
        return None
    sweep = override.value()
    key = override.get_key_element()
    if isinstance(sweep, ChoiceSweep):
        if sweep.shuffle:
            raise ValueError(f"{key}: shuffle(...) means nothing to Optuna; write choice(...)")
        return CategoricalDistribution(list(override.sweep_iterator()))
    if isinstance(sweep, RangeSweep):
        values = list(override.sweep_iterator())
        if not values:
            raise ValueError(f"{key}: {override.get_value_element_as_str()} is an empty range")
        if all(isinstance(v, int) for v in values) and len(values) > 1 and not sweep.shuffle:
            return IntDistribution(min(values), max(values), step=abs(int(sweep.step)))
        return CategoricalDistribution(values)
    if isinstance(sweep, IntervalSweep):
        log = "log" in sweep.tags
        if "int" in sweep.tags:
            return IntDistribution(int(sweep.start), int(sweep.end), log=log)
        return FloatDistribution(float(sweep.start), float(sweep.end), log=log)
    raise ValueError(f"{key}: unsupported sweep {override.get_value_element_as_str()}; "
                     "use choice(...), range(...), interval(...) or tag(log, interval(...))")


def split_search_space(overrides: list[Override]) -> tuple[dict[str, BaseDistribution], list[str]]:
    """`({key: distribution}, ["key=value" of the fixed overrides])`; later overrides of a key win."""
    space: dict[str, BaseDistribution] = {}
    fixed: dict[str, str] = {}
    for override in overrides:
        key = override.get_key_element()
        dist = distribution(override)
        space.pop(key, None)
        fixed.pop(key, None)
        if dist is None:
            fixed[key] = f"{key}={override.get_value_element_as_str()}"
        else:
            space[key] = dist
    return space, list(fixed.values())
