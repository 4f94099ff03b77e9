"""Data in: importers, the demo generator, code validation and coordinate conversion."""
