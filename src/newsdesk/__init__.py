"""newsdesk: a self-hosted, offline-first morning briefing and research desk."""

__version__ = "0.1.0"
USER_AGENT = f"newsdesk/{__version__} (+https://github.com/newsdesk/newsdesk; self-hosted feed reader)"
