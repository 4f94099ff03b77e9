"""The event loop's domain rules (plain Python, no Dash): intake now, the lifecycle next."""
