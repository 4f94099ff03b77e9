"""Reading a layer's geobuf answer back into GeoJSON-like features."""

from __future__ import annotations

from geobuf import geobuf_pb2
from geobuf.decode import Decoder
from layers.features import Viewport, features_geobuf
from layers.registry import VIEWPORT_LAYERS
from sqlalchemy import Connection

from tests.fixtures.hierarchy import EAST, NORTH, SOUTH, WEST

WHOLE_DISTRICT = (WEST, SOUTH, EAST, NORTH)


def _top_level_fields(payload: bytes) -> set[int]:
    """The field numbers present at the top level of a protobuf message."""

    def varint(i: int) -> tuple[int, int]:
        value, shift = 0, 0
        while True:
            byte = payload[i]
            value |= (byte & 0x7F) << shift
            i, shift = i + 1, shift + 7
            if not byte & 0x80:
                return value, i

    fields, i = set(), 0
    while i < len(payload):
        key, i = varint(i)
        fields.add(key >> 3)
        wire = key & 7
        if wire == 0:
            _, i = varint(i)
        elif wire == 2:
            size, i = varint(i)
            i += size
        elif wire in (1, 5):
            i += 8 if wire == 1 else 4
        else:
            raise ValueError(f"wire type {wire}")
    return fields


class SpecDecoder(Decoder):
    """geobuf 2.0.1's decoder, reading a missing `precision` as the format's default (6 decimal
    places) as the JavaScript decoder does; geobuf 2.0.1 (proto3) reads it as 0, and PostGIS
    leaves the field out whenever it encodes at 6 places."""

    def decode(self, payload: bytes):
        data = self.data = geobuf_pb2.Data()
        data.ParseFromString(payload)
        self.e = 10 ** (data.precision if 3 in _top_level_fields(payload) else 6)
        self.dim = data.dimensions or 2
        kind = data.WhichOneof("data_type")
        return getattr(self, f"decode_{kind}")(getattr(data, kind))


def decode(payload: bytes) -> dict:
    return SpecDecoder().decode(payload)


def layer_features(conn: Connection, name: str, zoom: int, bbox=WHOLE_DISTRICT,
                   **options) -> list[dict]:
    payload = features_geobuf(conn, VIEWPORT_LAYERS[name], Viewport(*bbox, zoom).checked(),
                              options)
    assert isinstance(payload, bytes)
    collection = decode(payload)
    assert collection["type"] == "FeatureCollection"
    return collection["features"]


def ids(features: list[dict]) -> set[int]:
    return {int(f["properties"]["id"]) for f in features}
