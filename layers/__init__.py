"""Map layers, each declared once and read by the map, tiles, exports and the API."""
