"""SQL fragments the viewport layers share."""

# the viewport, padded by the caller; `geom && VIEWPORT` uses each table's GiST index
VIEWPORT = "ST_MakeEnvelope(:west, :south, :east, :north, 4326)"
