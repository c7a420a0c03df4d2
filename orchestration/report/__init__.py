"""A session's story, told from its store: where each unit's time went, what each agent did and
cost, the gate's runs and the checks' findings (figures), and the page and text that show them."""

from bosun.orchestration.report.figures import SESSION_KEYS, figures, session_figures
from bosun.orchestration.report.record import Record, read_session, read_store

__all__ = ["SESSION_KEYS", "Record", "figures", "read_session", "read_store", "session_figures"]
