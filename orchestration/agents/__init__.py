"""Agents: launching them (task file, command line, scrubbed environment), CLI presets, usage
parsed from their output, the scripted and model agents, one attempt handed out and collected,
and the claim protocol for external agents."""
