"""Discrete-event engine on SimPy. Times in seconds."""
