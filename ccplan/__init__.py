"""ccplan: call-center simulation and staffing planner.

The notebook API (see docs/notebook.md): ``import ccplan as cc`` then ``cc.load``, ``cc.plan``, ``cc.simulate``,
``cc.verify``, ``cc.roster``, ``cc.forecast``, ``cc.compare`` and ``cc.backtest`` (defined in :mod:`ccplan.api`,
imported on first use so that ``import ccplan.scenario`` stays light and the engines can import the package).
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["load", "plan", "simulate", "verify", "roster", "forecast", "compare", "backtest"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from ccplan import api

        return getattr(api, name)
    raise AttributeError(f"module 'ccplan' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
