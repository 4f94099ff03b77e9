"""SQL fragments the viewport layers share."""

# the viewport, padded by the caller; `geom && VIEWPORT` uses each table's GiST index, except
# where row-level security stands in the way (see viewport_ids)
VIEWPORT = "ST_MakeEnvelope(:west, :south, :east, :north, 4326)"


# from this zoom on a 1080p screen shows a tenth of a district or less: its rows are found
# through the spatial index (onemap.viewport_ids); below it the screen shows much of the
# district, and reading the table under the scope policy costs less than fetching most of
# its rows one by one
INDEXED_FROM_ZOOM = 16

# The same switch for a bounding box given in degrees (exports, the OGC API, tiles): up to
# about a 1080p screen at zoom 16 its rows come through the index; a larger box holds so much
# of a dense district (a zoom-15 screen over the centre: half its 300,000 cases) that
# gathering the ids costs more than reading the table (measured: 430 against 160 ms).
INDEXED_BBOX_DEG2 = 1e-3


def in_viewport(table: str, geom: str = "geom") -> str:
    """A FROM item: the rows of a scoped table inside the viewport.

    PostGIS's && is not leakproof, so under the scope policy PostgreSQL checks the policy on
    every row before the bounding box, whatever the zoom. Close up, the GiST test runs inside
    onemap.viewport_ids (migration 0007), which keeps the policy's own rule, and the rows come
    back by primary key (the ids are gathered once, then looked up through the key's index);
    the policy still checks each. Each branch is switched on by the zoom alone, so a prepared
    (generic) plan keeps both and runs one."""
    return (f"(SELECT * FROM onemap.{table} WHERE :zoom >= {INDEXED_FROM_ZOOM}"
            f" AND id = ANY (ARRAY(SELECT onemap.viewport_ids('{table}', :west, :south, :east,"
            f" :north)))"
            f" UNION ALL SELECT * FROM onemap.{table} WHERE :zoom < {INDEXED_FROM_ZOOM}"
            f" AND {geom} && {VIEWPORT})")
