"""A mixin the PyComex example config includes (recorded by the config loader, loaded by experiments)."""

MIXIN_LOG_LEVEL: str = "INFO"  # level of the mixin's log messages
