"""Analytic engine: Erlang B/C/A, priority classes, staffing. numpy/scipy only; times in seconds."""
