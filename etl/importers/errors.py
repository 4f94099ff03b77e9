"""The one exception a whole file is refused with (as opposed to row errors, which are data)."""


class ImportRefused(Exception):
    """The file cannot be imported at all: unreadable, no CRS, missing columns, no geometry."""
