"""What a layer declaration holds: one declaration serves the map, the layer API and exports.

A viewport layer says where its rows come from (`features_sql`), what the browser needs to draw
it (`Display`: pane, drawing functions, palette, card, clustering) and which choices the user
has (`Option`). Map pages, the layer API and the legend all read it; nothing else names a
layer's colours or panes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Drawing order of every map page, bottom first (Leaflet z-index). Boundaries sit between
# buildings and lines (pages/viewport_map.py gives each level a pane from 410 to 440).
PANES = {"heat": 350, "buildings": 380, "lines": 450, "labels": 460, "points": 470,
         "events": 480}


@dataclass(frozen=True)
class Palette:
    """Colours by the vocabulary code of one property; the legend names each code."""

    field: str
    colours: dict
    names: dict  # the vocabulary (onemap/domain/vocab.py): code -> (中文, English, …)

    def __post_init__(self) -> None:
        if set(self.colours) != set(self.names):
            raise ValueError(f"palette of {self.field!r} must colour exactly the vocabulary's"
                             f" codes: {sorted(map(str, self.names))}")

    def for_browser(self) -> dict:
        """JSON keys are strings, so are the codes here (assets/map.js looks up String(v))."""
        return {"field": self.field, "colours": {str(k): v for k, v in self.colours.items()}}

    def legend(self) -> list[tuple[str, str, str]]:
        """(colour, 中文, English) in the vocabulary's order."""
        return [(self.colours[code], names[0], names[1]) for code, names in self.names.items()]


@dataclass(frozen=True)
class Option:
    """A choice the user makes for a layer, kept in the page's URL under `name`.

    The first choice is the default unless `preset` names another. A `restyle` option only
    changes how features are drawn (the browser applies it through `hideout`); any other goes
    to `features_sql` as a parameter and refetches.
    """

    name: str
    title_zh: str
    title_en: str
    choices: dict  # value -> (中文, English), in the order the page offers them
    preset: str | None = None  # the default when not the first choice
    restyle: bool = False

    @property
    def default(self) -> str:
        return self.preset or next(iter(self.choices))

    def values(self) -> list[str]:
        """The allowed values, the default first."""
        return [self.default, *(v for v in self.choices if v != self.default)]


@dataclass(frozen=True)
class Display:
    """How the browser draws a layer; assets/map.js reads all of it from the layer's hideout.

    `draw` maps a dash-leaflet GeoJSON function prop (pointToLayer, style, onEachFeature,
    clusterToLayer) to a function of `onemap.map` in assets/map.js. `card` names the detail
    card a click opens (callbacks/cards.py), None for a layer nobody clicks. `hideout` holds
    constants its drawing functions read besides the palette.
    """

    pane: str
    draw: dict
    palette: Palette | None = None
    card: str | None = None
    cluster: dict | None = None
    hideout: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.pane not in PANES:
            raise ValueError(f"pane must be one of {', '.join(PANES)}")


@dataclass(frozen=True)
class Layer:
    """One map layer: where its rows come from, what it shows, and how it looks.

    `features_sql` selects the features inside a viewport. It may use the parameters
    :west :south :east :north (WGS84 degrees), :zoom, :px_deg (a pixel's size in degrees at
    that zoom) and :cell_m (a heat cell's size in metres), plus the layer's non-restyle
    options. It never filters by scope: row-level security does (geodata/scope.py). Below
    `min_zoom` the layer is empty without asking the database (layers/features.py).
    Booleans go out as 0/1 (ST_AsGeobuf would write them as the strings 't' and 'f', and 'f'
    is true in JS).
    """

    name: str
    title_zh: str
    title_en: str
    table: str
    fields: tuple[str, ...]
    min_zoom: int = 0
    style: dict = field(default_factory=dict)  # boundaries: a Leaflet path style
    features_sql: str | None = None
    live_topic: str | None = None  # reload when this topic of the live clock moves
    # the features depend on the scope, the role, the live topic and the minute alone (no
    # user's own rows, no other topic's table), so screens may share them
    # (geodata/shared_answers.py)
    shared: bool = False
    options: tuple[Option, ...] = ()
    display: Display | None = None

    @property
    def title(self) -> str:
        """Chinese first, English second."""
        return f"{self.title_zh} {self.title_en}"

    def query_options(self) -> tuple[Option, ...]:
        """The options that are parameters of `features_sql`."""
        return tuple(option for option in self.options if not option.restyle)


# What a personal field is masked with (onemap.domain.masking), by the kind of value it holds
MASKS = ("name", "phone", "id_number", "passport")


@dataclass(frozen=True)
class Field:
    """One column a layer's source gives out: its name in SQL and in files (ASCII), its titles,
    its kind, and for a personal field the mask it wears (`mask`, one of MASKS): such a field
    leaves the server only masked, and only for roles that may look people up."""

    name: str
    title_zh: str
    title_en: str
    kind: str = "text"  # text | int | float | bool | time (timestamptz)
    mask: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("text", "int", "float", "bool", "time"):
            raise ValueError(f"{self.name}: unknown kind {self.kind!r}")
        if self.mask is not None and self.mask not in MASKS:
            raise ValueError(f"{self.name}: mask must be one of {', '.join(MASKS)}")

    @property
    def personal(self) -> bool:
        return self.mask is not None


# the row's id in OneMap ("ID" would clash with KML's own id attribute in readers)
ONEMAP_ID = Field("id", "系统编号", "OneMap id", "int")


@dataclass(frozen=True)
class Source:
    """Where a layer's rows come from, whole (exports, the OGC API, tiles), apart from the
    viewport rules of the map (`Layer.features_sql`).

    `select` is a SELECT whose columns are every field's `name`, `unit_code` (the
    administrative code the unit filter matches: a grid's or a boundary's own code) and
    `geom` (WGS84); `time_field` names the field a time range filters on. Row-level security
    scopes it (geodata/scope.py): it never filters by scope itself. A `boundary` source also
    matches the units above the filter's unit (a grid worker's export of streets holds their
    street). `capability` is what a role needs beyond `export` to take the layer out at all.
    `spatial` = (table, column): the rows' geometry is that table's (onemap.viewport_ids knows
    it) and `column` of `select` holds its id, so a bounding box finds them through the GiST
    index despite row-level security (layers/sql.py says why); without it a box is a plain &&.
    An `aggregate` source (the heatmap grid) filters the rows of `select` and gives out what
    `aggregate` makes of them, a SELECT over the CTE `filtered`; its time field is a column
    of `select`, and its fields are the aggregate's. `tile_fields` names the fields a vector
    tile carries when not all of them (never a personal one), and `tile_min_zoom` the zoom
    tiles start at: a layer of every case in the district would otherwise put tens of
    megabytes in one low-zoom tile.
    """

    name: str
    title_zh: str
    title_en: str
    select: str
    fields: tuple[Field, ...]
    geometry: str  # Point | LineString | Polygon | MultiPolygon
    id_field: str = "id"
    time_field: str | None = None
    boundary: bool = False
    capability: str | None = None
    aggregate: str | None = None
    spatial: tuple[str, str] | None = None
    tile_fields: tuple[str, ...] | None = None
    tile_min_zoom: int = 0

    def __post_init__(self) -> None:
        names = [f.name for f in self.fields]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.name}: field names repeat")
        if self.id_field not in names:
            raise ValueError(f"{self.name}: id field {self.id_field!r} is not a field")
        if self.tile_fields is not None and not set(self.tile_fields) <= set(names):
            raise ValueError(f"{self.name}: tile fields {self.tile_fields} are not all fields")
        if self.time_field is not None and self.aggregate is None and self.time_field not in names:
            raise ValueError(f"{self.name}: time field {self.time_field!r} is not a field")

    @property
    def title(self) -> str:
        """Chinese first, English second."""
        return f"{self.title_zh} {self.title_en}"

    def field(self, name: str) -> Field:
        """The field called `name`; KeyError naming the layer's fields otherwise."""
        for candidate in self.fields:
            if candidate.name == name:
                return candidate
        raise KeyError(f"{self.name} has no field {name!r}; its fields: "
                       f"{', '.join(f.name for f in self.fields)}")
