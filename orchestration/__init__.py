"""Bosun's headless engine: plans, the unit graph, the durable store, agents and the gate.

Nothing here imports the screen; the app subscribes to the orchestrator's events.
"""
