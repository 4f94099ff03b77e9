"""The demo district generator."""
