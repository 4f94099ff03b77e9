"""Component ids the wall screen's layout and callbacks share (importable before the app)."""


def layer_id(name: str) -> dict:
    """The component id of a viewport layer's GeoJSON."""
    return {"type": "wall-layer", "name": name}
