"""ccplan: call-center simulation and staffing planner."""

__version__ = "0.1.0"
