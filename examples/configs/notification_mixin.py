"""A mixin the PyComex example config includes (recorded by the config loader, loaded by experiments)."""

NOTIFY_ON_END: bool = True  # send a notification when the run ends
