"""Component ids the wall screen's layout and callbacks share (importable before the app)."""


def request_id(name: str) -> dict:
    """The store through which the browser asks for a viewport layer's features."""
    return {"type": "wall-request", "name": name}


def layer_id(name: str) -> dict:
    """The component id of a viewport layer's GeoJSON."""
    return {"type": "wall-layer", "name": name}


# how the buildings layer may be coloured: the page's choices, and all a callback accepts
BUILDING_COLOURS = {"use": ("用途", "use"), "residents": ("人口", "residents"),
                    "key_group": ("重点人群", "key groups")}
