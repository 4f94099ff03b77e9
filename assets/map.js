/* OneMap's map component (pages/viewport_map.py), shared by every map page: how layers are
   drawn, the heat surface, the live poll, the URL that remembers a map, which layers to
   fetch, and the layers drawn from vector tiles instead (Leaflet.VectorGrid). A map's
   component ids start with its page's prefix ("wall-map", "wall-overlays" …).
   What a layer looks like comes from its declaration in layers/ through `hideout` (pane,
   palette, constants); nothing here names a layer's colours. Every text that came from a user
   is put in the page as text (textContent), never as HTML. */
(function () {
  "use strict";

  function textElement(tag, className, text) {
    const el = document.createElement(tag);
    if (className) el.className = className;
    el.textContent = text == null ? "" : String(text);
    return el;
  }

  // WGS84 -> GCJ-02, the offset AMap and Tencent tiles are drawn in (the published formula;
  // onemap/domain/coordinates.py holds the same one, and a browser test holds the two equal)
  const A = 6378245.0, EE = 0.00669342162296594323;
  function outOfChina(lng, lat) {
    return lng < 72.004 || lng > 137.8347 || lat < 0.8293 || lat > 55.8271;
  }
  function tLat(x, y) {
    let r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    r += (20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0 / 3.0;
    r += (20.0 * Math.sin(y * Math.PI) + 40.0 * Math.sin(y / 3.0 * Math.PI)) * 2.0 / 3.0;
    r += (160.0 * Math.sin(y / 12.0 * Math.PI) + 320 * Math.sin(y * Math.PI / 30.0)) * 2.0 / 3.0;
    return r;
  }
  function tLng(x, y) {
    let r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    r += (20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0 / 3.0;
    r += (20.0 * Math.sin(x * Math.PI) + 40.0 * Math.sin(x / 3.0 * Math.PI)) * 2.0 / 3.0;
    r += (150.0 * Math.sin(x / 12.0 * Math.PI) + 300.0 * Math.sin(x / 30.0 * Math.PI)) * 2.0 / 3.0;
    return r;
  }
  function wgs84ToGcj02(lng, lat) {
    if (outOfChina(lng, lat)) return [lng, lat];
    let dLat = tLat(lng - 105.0, lat - 35.0), dLng = tLng(lng - 105.0, lat - 35.0);
    const radLat = lat / 180.0 * Math.PI;
    let magic = Math.sin(radLat);
    magic = 1 - EE * magic * magic;
    const sqrtMagic = Math.sqrt(magic);
    dLat = (dLat * 180.0) / ((A * (1 - EE)) / (magic * sqrtMagic) * Math.PI);
    dLng = (dLng * 180.0) / (A / sqrtMagic * Math.cos(radLat) * Math.PI);
    return [lng + dLng, lat + dLat];
  }

  // -- what a layer's declaration sends: hideout = {pane, palette, options, …constants}
  function hideout(context) { return (context && context.hideout) || {}; }

  // markers grow with the screen as its type does (onemap.css scales type from 1920 px up)
  function scale() { return Math.max(1, Math.min(2, window.innerWidth / 1920)); }

  function paletteCode(feature, context) {
    const palette = hideout(context).palette;
    return palette ? String(feature.properties[palette.field]) : null;
  }
  function colourOf(feature, context, fallback) {
    const h = hideout(context);
    if (!h.palette) return h.colour || fallback;
    return h.palette.colours[paletteCode(feature, context)] || fallback;
  }
  function nameOf(feature, context) {
    const h = hideout(context);
    return h.palette ? (h.palette.names[paletteCode(feature, context)] || "") : "";
  }

  // -- the heat surface: each server-side bin is a HeatCell; the cells a map holds are drawn
  // as one leaflet.heat canvas in the layer's pane, redrawn once per animation frame
  const surfaces = new WeakMap();
  // cool to hot; the faintest cells fade out rather than tint the whole district blue
  const HEAT_GRADIENT = {0.3: "#1565c0", 0.55: "#00b8d4", 0.7: "#64dd17", 0.85: "#ffd600",
                         1.0: "#ff1744"};
  let HeatCell = null, HeatSurface = null;

  function heatSurfaceClass() {
    // leaflet.heat puts its canvas in the overlay pane; the heat belongs under the buildings
    HeatSurface = HeatSurface || L.HeatLayer.extend({
      onAdd: function (map) {
        L.HeatLayer.prototype.onAdd.call(this, map);
        map.getPane(this.options.pane).appendChild(this._canvas);
      },
      onRemove: function (map) {
        map.getPanes().overlayPane.appendChild(this._canvas);
        L.HeatLayer.prototype.onRemove.call(this, map);
      },
    });
    return HeatSurface;
  }

  function drawSurface(map, surface) {
    surface.pending = false;
    if (!surface.cells.size) {
      if (surface.layer) map.removeLayer(surface.layer);
      surface.layer = null;
      return;
    }
    const points = [], weights = [];
    surface.cells.forEach(function (cell) {
      points.push([cell.latlng.lat, cell.latlng.lng, cell.weight]);
      weights.push(cell.weight);
    });
    // full heat at the busiest twentieth of the cells on screen: the hot spots of this view
    // stand out whether the window holds an hour of reports or a week
    weights.sort(function (a, b) { return a - b; });
    const top = Math.max(2, weights[Math.floor(0.95 * (weights.length - 1))]);
    // the server's cells are HEAT_CELL_PX (28 px) apart at any screen size: radius and blur
    // overlap them into one surface. maxZoom 0: the cells are binned per zoom already, so
    // leaflet.heat must not fade them by zoom
    const options = {pane: surface.pane, max: top, radius: 22, blur: 22, maxZoom: 0,
                     minOpacity: 0.05, gradient: HEAT_GRADIENT};
    if (!surface.layer) {
      surface.layer = new (heatSurfaceClass())(points, options);
      map.addLayer(surface.layer);
    } else {
      surface.layer.setOptions(options);
      surface.layer.setLatLngs(points);
    }
  }

  function surfaceOf(map) {
    let surface = surfaces.get(map);
    if (!surface) {
      surface = {cells: new Set(), layer: null, pending: false, pane: null};
      surfaces.set(map, surface);
    }
    return surface;
  }

  function heatCellClass() {
    HeatCell = HeatCell || L.Layer.extend({
      initialize: function (latlng, weight, pane) {
        this.latlng = latlng;
        this.weight = weight;
        this.heatPane = pane;
      },
      getLatLng: function () { return this.latlng; },
      onAdd: function (map) { this._toSurface(map, true); },
      onRemove: function (map) { this._toSurface(map, false); },
      _toSurface: function (map, add) {
        const surface = surfaceOf(map);
        if (add) surface.cells.add(this); else surface.cells.delete(this);
        surface.pane = this.heatPane;
        if (!surface.pending) {
          surface.pending = true;
          window.requestAnimationFrame(function () { drawSurface(map, surface); });
        }
      },
    });
    return HeatCell;
  }

  // -- labels: where two overlap the one of the higher level (street over community over
  // grid) stays and the other is hidden, checked again after every change of the view
  const LABEL_RANK = {district: 0, street: 1, community: 2, grid: 3};
  const declutterPending = new WeakSet();
  function declutter(map, pane) {
    declutterPending.delete(map);
    const labels = [...map.getPane(pane).querySelectorAll(".unit-label")];
    labels.sort(function (a, b) {
      return (LABEL_RANK[a.dataset.level] || 9) - (LABEL_RANK[b.dataset.level] || 9);
    });
    const kept = [];
    labels.forEach(function (label) {
      label.style.visibility = "";
      const box = label.getBoundingClientRect();
      const hit = kept.some(function (k) {
        return box.left < k.right + 4 && k.left < box.right + 4 &&
               box.top < k.bottom + 2 && k.top < box.bottom + 2;
      });
      if (hit) label.style.visibility = "hidden"; else kept.push(box);
    });
  }
  function declutterSoon(map, pane) {
    if (declutterPending.has(map)) return;
    declutterPending.add(map);
    window.requestAnimationFrame(function () { declutter(map, pane); });
  }

  function tooltip(layer, children) {
    const box = document.createElement("div");
    children.forEach(function (child) { box.appendChild(child); });
    layer.bindTooltip(box, {direction: "top", className: "map-tip"});
  }

  // -- vector tiles (issue 14): a layer the page draws from /tiles/ (pages/viewport_map.py,
  // tiled_layers) is a LayerGroup; on its `add` event a Leaflet.VectorGrid goes into it, drawn
  // by the layer's own functions (Display.draw) from its hideout, as its GeoJSON would be. SVG
  // tiles, as the map's other layers: clicks pass through their gaps to the layers below.
  // The 256-px tile x/y of zoom z-2 drawn 1024 px wide: a sixteenth of the requests, and a
  // unit of the 4096 a tile still a quarter of a pixel. Fewer, larger tiles drew faster on a
  // busy server than 512 or 256 px (BENCHMARKS.md, "Wall layers"), and a pan mostly finds
  // its tiles there already.
  const TILE_SIZE = 1024;
  const TILE_LEVELS = Math.log2(TILE_SIZE / 256);
  const tileGrids = {};   // "prefix/name" -> {grid, hideout, tiles, tip}
  let TileGrid = null;

  // a point's symbolizer is a CircleMarker without a latlng: Leaflet's map reads one for the
  // events of a small marker (_radius <= 10) and threw (Leaflet.VectorGrid#168, #294)
  function symbolLatLng() {
    const renderer = this._renderer, coords = renderer.getCoord();
    return renderer._map.unproject(coords.scaleBy(renderer._size).add(this._point), coords.z);
  }

  function tileGridClass() {
    const Protobuf = L.VectorGrid.Protobuf;
    TileGrid = TileGrid || Protobuf.extend({
      _getVectorTilePromise: function (coords) {
        const served = L.point(coords.x, coords.y);  // the tile of /tiles/ this one shows
        served.z = coords.z - TILE_LEVELS;
        // a tile that cannot be fetched is empty, not one the layer waits for forever
        return Protobuf.prototype._getVectorTilePromise.call(this, served)
          .catch(function () { return {layers: {}}; });
      },
      // z-index 0, under the pane's SVG: the layers control would number it over it
      setZIndex: function () { return this; },
      _createLayer: function (feat, pxPerExtent) {
        const layer = Protobuf.prototype._createLayer.call(this, feat, pxPerExtent);
        if (feat.type === 1) layer.getLatLng = symbolLatLng;
        return layer;
      },
    });
    return TileGrid;
  }

  function styledHideout(layer, chosen) {  // as styleLayers sends a GeoJSON's hideout
    return Object.assign({}, layer.hideout, {options: Object.assign(
      layerOptions(layer, chosen, "query"), layerOptions(layer, chosen, "restyle"))});
  }

  function chosenNow(prefix, spec) {  // the option radios as the page shows them now
    const api = window.dash_component_api;
    return optionsByName((spec.options || []).map(function (name) {
      const radio = api.getLayout({type: prefix + "-option", name: name});
      return radio && radio.props ? radio.props.value : undefined;
    }), spec);
  }

  // a path's style, or a circle's options, from the function that draws the layer's GeoJSON
  function tileStyle(entry) {
    const drawing = entry.tiles.draw;
    return function (properties) {
      const feature = {type: "Feature", properties: properties};
      const context = {hideout: entry.hideout};
      const style = drawing.style ? draw[drawing.style](feature, context) :
        draw[drawing.pointToLayer](feature, L.latLng(0, 0), context).options;
      return Object.assign({}, style, {fill: true});
    };
  }

  function showTileTooltip(entry, map, e) {
    const onEach = entry.tiles.draw.onEachFeature;
    if (!onEach) return;
    let content = null, options = null;
    const binder = {bindTooltip: function (c, o) { content = c; options = o; }};
    draw[onEach]({type: "Feature", properties: e.layer.properties}, binder,
                 {hideout: entry.hideout});
    if (content === null) return;
    hideTileTooltip(entry, map);
    const latlng = e.layer.getLatLng ? e.layer.getLatLng() : e.latlng;
    entry.tip = L.tooltip(options).setLatLng(latlng).setContent(content);
    map.openTooltip(entry.tip);
  }
  function hideTileTooltip(entry, map) {
    if (entry.tip) map.closeTooltip(entry.tip);
    entry.tip = null;
  }

  // The LayerGroup's `add` handler (dash-leaflet calls it with the component's props): the
  // layer's grid, made the first time; shown again, the group still holds it. A click sets the
  // group's clickData as a GeoJSON's click does, and callbacks/viewport_map.py opens the card.
  function vectorTiles(e, ctx) {
    const group = e.target, map = group._map;
    if (group.onemapGrid) return;
    // dash-leaflet hands a pattern-matching id over as its JSON text
    const id = typeof ctx.id === "string" ? JSON.parse(ctx.id) : ctx.id;
    const prefix = id.type.replace(/-layer$/, ""), name = id.name;
    const api = window.dash_component_api;
    const store = api && api.getLayout(prefix + "-spec");
    const spec = store && store.props.data, layer = spec && spec.layers[name];
    if (!layer || !layer.tiles) {
      console.error("no vector tiles declared for " + prefix + "/" + name);
      return;
    }
    const entry = {hideout: styledHideout(layer, chosenNow(prefix, spec)), tiles: layer.tiles,
                   tip: null};
    const styles = {};
    styles[name] = tileStyle(entry);  // the tile's layer is named after the layer's source
    const grid = new (tileGridClass())(layer.tiles.url, {
      pane: layer.hideout.pane, tileSize: TILE_SIZE, zIndex: 0,
      minZoom: Math.max(layer.tiles.minZoom, TILE_LEVELS),
      rendererFactory: L.svg.tile, interactive: true, vectorTileLayerStyles: styles,
      // with an id, a tile that leaves the screen also leaves the map's event targets
      getFeatureId: function (feature) { return feature.properties.id; },
      fetchOptions: {credentials: "same-origin"},
    });
    // under the pane's SVG, as the registry orders the layers (cameras, then sensors over
    // them); which layer it is and the state of its tiles, for tests and bench/wall_screen.py
    grid.on("add", function () {
      L.DomUtil.toBack(grid.getContainer());
      grid.getContainer().dataset.layer = name;
    });
    grid.on("loading", function () { grid.getContainer().dataset.tiles = "loading"; });
    grid.on("load", function () { grid.getContainer().dataset.tiles = "loaded"; });
    let clicks = 0;
    grid.on("click", function (ev) {
      clicks += 1;  // the same feature clicked again is a new click
      ctx.setProps({n_clicks: clicks, clickData: {
        latlng: [ev.latlng.lat, ev.latlng.lng], properties: {id: ev.layer.properties.id},
        click: clicks}});
    });
    grid.on("mouseover", function (ev) { showTileTooltip(entry, map, ev); });
    grid.on("mouseout", function () { hideTileTooltip(entry, map); });
    entry.grid = grid;
    group.onemapGrid = grid;
    tileGrids[prefix + "/" + name] = entry;
    group.addLayer(grid);
  }

  // The layers control lists overlays as they register: a tiled layer's LayerGroup at once,
  // the GeoJSON layers once their code has loaded. A map with tiled layers sorts its control
  // (pages/viewport_map.py) back into the page's own order, its spec's titles.
  function overlayRank(name) {
    const api = window.dash_component_api;
    for (const el of document.querySelectorAll(".leaflet-container[id$='-map']")) {
      const store = api && api.getLayout(el.id.replace(/-map$/, "-spec"));
      const titles = store && store.props.data ? Object.keys(store.props.data.titles) : [];
      if (titles.indexOf(name) >= 0) return titles.indexOf(name);
    }
    return 1e6;
  }
  if (window.L && L.Control && L.Control.Layers) {
    L.Control.Layers.prototype.options.sortFunction = function (_a, _b, nameA, nameB) {
      return overlayRank(nameA) - overlayRank(nameB);
    };
  }

  // an option that restyles a tiled layer draws its tiles again (the browser has them cached)
  function restyleTiles(spec, chosen) {
    Object.keys(spec.layers).forEach(function (name) {
      const entry = tileGrids[spec.prefix + "/" + name];
      if (!entry) return;
      const styled = styledHideout(spec.layers[name], chosen);
      if (JSON.stringify(styled) === JSON.stringify(entry.hideout)) return;
      entry.hideout = styled;
      entry.grid.redraw();
    });
  }

  // -- drawing functions, named by the layers' declarations (Display.draw); a test holds the
  // names there equal to the functions here
  const draw = {
    wgs84ToGcj02: wgs84ToGcj02,
    gcj02LatLng: function (coords) {
      const p = wgs84ToGcj02(coords[0], coords[1]);
      return L.latLng(p[1], p[0]);
    },

    pointMarker: function (feature, latlng, context) {
      const h = hideout(context), px = scale(), colour = colourOf(feature, context, "#b0bec5");
      return L.circleMarker(latlng, h.ring ? {
        pane: h.pane, radius: (h.radius || 5) * px, weight: 2 * px, color: colour,
        fillColor: "#0b1420", fillOpacity: 0.8,
      } : {
        pane: h.pane, radius: (h.radius || 5) * px, weight: px, color: "#0b1420",
        fillColor: colour, fillOpacity: 0.9,
      });
    },
    eventMarker: function (feature, latlng, context) {
      const p = feature.properties, px = scale(), h = hideout(context);
      const ring = p.overdue ? h.rings.overdue : p.warning ? h.rings.warning : null;
      return L.circleMarker(latlng, {
        pane: h.pane,
        radius: (p.level <= 2 ? 9 : p.level === 3 ? 7 : 5) * px,
        color: ring ? ring.colour : "#0b1420",
        weight: (p.overdue ? 3 : p.warning ? 2.5 : 1) * px,
        fillColor: colourOf(feature, context, "#90a4ae"), fillOpacity: 0.9,
      });
    },
    sensorMarker: function (feature, latlng, context) {
      const alarm = feature.properties.status === "alarm", px = scale();
      return L.circleMarker(latlng, {
        pane: hideout(context).pane, radius: (alarm ? 8 : 3) * px, weight: alarm ? 2 * px : 0,
        color: "#ffffff", fillColor: colourOf(feature, context, "#607d8b"),
        fillOpacity: alarm ? 0.95 : 0.7, className: alarm ? "sensor-alarm" : "",
      });
    },
    cameraCluster: function (feature, latlng, index, context) {
      const count = feature.properties.point_count;
      const size = (count < 50 ? 30 : count < 500 ? 38 : 46) * scale();
      const icon = L.divIcon({
        html: "<div><span></span></div>", className: "camera-cluster",
        iconSize: L.point(size, size),
      });
      const marker = L.marker(latlng, {icon: icon, pane: hideout(context).pane});
      marker.on("add", function () {  // the count as text, not markup
        const span = marker.getElement() && marker.getElement().querySelector("span");
        if (span) span.textContent = String(count);
      });
      return marker;
    },
    heatCell: function (feature, latlng, context) {
      return new (heatCellClass())(latlng, feature.properties.n, hideout(context).pane);
    },
    labelMarker: function (feature, latlng, context) {
      const p = feature.properties, pane = hideout(context).pane, map = context.map;
      const icon = L.divIcon({className: "unit-label unit-label-" + p.level, html: "",
                              iconSize: null});
      const marker = L.marker(latlng, {icon: icon, interactive: false, keyboard: false,
                                       pane: pane});
      marker.on("add", function () {
        const el = marker.getElement();
        if (!el) return;
        el.dataset.level = p.level;
        const children = [textElement("span", "unit-label-name", p.name)];
        if (p.parent) children.push(textElement("span", "unit-label-parent", p.parent));
        el.replaceChildren.apply(el, children);
        if (map) declutterSoon(map, pane);
      });
      return marker;
    },
    buildingStyle: function (feature, context) {
      const h = hideout(context), p = feature.properties;
      const mode = (h.options || {}).colour || "use";
      let fill = colourOf(feature, context, "#868e96");
      if (mode !== "use") {
        const t = Math.min(1, (p[mode] || 0) / ((h.tops || {})[mode] || 1));
        fill = "hsl(" + (200 - 200 * t) + ", 80%, " + (35 + 20 * t) + "%)";
      }
      return {color: "#0b1420", weight: 0.6, fillColor: fill, fillOpacity: 0.75};
    },
    dispatchStyle: function (feature) {
      const overdue = feature.properties.overdue, px = scale();
      return {color: overdue ? "#ff1744" : "#40c4ff", weight: (overdue ? 2.5 : 1.2) * px,
              opacity: overdue ? 0.95 : 0.6, dashArray: overdue ? null : "4 4"};
    },
    eventTooltip: function (feature, layer, context) {
      const p = feature.properties, states = hideout(context).states || {};
      tooltip(layer, [
        textElement("div", "tip-title", p.title),
        textElement("div", "tip-meta", (p.overdue ? "超期 · " : p.warning ? "预警 · " : "") +
                    p.level + "级 · " +
                    (states[p.state] || p.state)),
      ]);
    },
    nameTooltip: function (feature, layer) {
      tooltip(layer, [textElement("div", "tip-title", feature.properties.name)]);
    },
    statusTooltip: function (feature, layer, context) {
      tooltip(layer, [textElement("div", "tip-title", hideout(context).title),
                      textElement("div", "tip-meta", nameOf(feature, context))]);
    },
    vectorTiles: vectorTiles,  // a tiled layer's LayerGroup's `add`
    // dash-leaflet's LayersControl forgets the overlays checked at start (its handlers see the
    // props of the first render), so the checked list is read from the control itself
    overlaysChanged: function (e) {
      const container = e.target.getContainer();
      const labels = container.querySelectorAll(".leaflet-control-layers-overlays label");
      const checked = [...labels].filter(function (l) {
        const input = l.querySelector("input");
        return input && input.checked;
      }).map(function (l) { return l.textContent.trim(); });
      const prefix = container.id.replace(/-map$/, "");
      window.dash_clientside.set_props(prefix + "-overlays", {data: checked});
    },
  };

  // -- the live poll: 204 means nothing changed (no body); the page says when it is cut off
  const STATUS_TEXT = {
    "ok": "● 实时 Live",
    "offline": "⚠ 与服务器的连接中断，正在重试 · Connection lost, retrying",
    "server-error": "⚠ 服务器或数据库不可用，正在重试 · Server or database down, retrying",
    "signed-out": "⚠ 登录已过期 · Signed out",
  };
  const lastStatus = {};
  function status(prefix, kind) {  // [text, class]; unchanged ones are not sent again
    const nu = window.dash_clientside.no_update;
    if (kind === lastStatus[prefix]) return [nu, nu];
    lastStatus[prefix] = kind;
    return [STATUS_TEXT[kind], "map-status " + kind];
  }

  async function poll(_n, live, spec) {
    const nu = window.dash_clientside.no_update;
    const since = live && live.token ? "?since=" + encodeURIComponent(live.token) : "";
    let response;
    try {
      response = await fetch("/api/live" + since, {credentials: "same-origin", cache: "no-store"});
    } catch (e) {
      return [nu].concat(status(spec.prefix, "offline"));
    }
    if (response.status === 204) return [nu].concat(status(spec.prefix, "ok"));
    if (response.status === 401) {  // back to this very view after signing in again
      window.location.assign("/login?next=" + encodeURIComponent(location.pathname + location.search));
      return [nu].concat(status(spec.prefix, "signed-out"));
    }
    if (!response.ok) return [nu].concat(status(spec.prefix, "server-error"));
    return [await response.json()].concat(status(spec.prefix, "ok"));
  }

  function optionsByName(values, spec) {  // the option radios come in spec.options' order
    const chosen = {};
    (spec.options || []).forEach(function (name, i) { chosen[name] = (values || [])[i]; });
    return chosen;
  }

  // -- the URL remembers layers, view and options, so a reloaded page comes back the same.
  // replaceState, not a dcc.Location: the page router would rebuild the page on every change.
  function rememberView(overlays, zoom, center, optionValues, spec) {
    const params = new URLSearchParams(location.search);
    if (overlays) {
      params.set("layers", overlays.map(function (t) { return spec.titles[t] || t; }).join(","));
    }
    if (zoom != null) params.set("z", String(Math.round(zoom * 4) / 4));
    if (center) {
      const lat = Array.isArray(center) ? center[0] : center.lat;
      const lng = Array.isArray(center) ? center[1] : center.lng;
      params.set("lat", Number(lat).toFixed(5));
      params.set("lng", Number(lng).toFixed(5));
    }
    const chosen = optionsByName(optionValues, spec);
    Object.keys(chosen).forEach(function (name) {
      if (chosen[name]) params.set(name, chosen[name]);
    });
    const url = location.pathname + "?" + params.toString().replace(/%2C/g, ",");
    if (url !== location.pathname + location.search) history.replaceState(history.state, "", url);
    return window.dash_clientside.no_update;
  }

  // The map's viewport from its centre and zoom and the size it is drawn at. dash-leaflet
  // reports `bounds` only after a move, not for the first view; centre and zoom it always has.
  function viewFromMap(_loads, zoom, center, spec) {
    const el = document.getElementById(spec.prefix + "-map");
    if (!el || zoom == null || !center) return window.dash_clientside.no_update;
    const lat = Array.isArray(center) ? center[0] : center.lat;
    const lng = Array.isArray(center) ? center[1] : center.lng;
    const crs = L.CRS.EPSG3857;
    const mid = crs.latLngToPoint(L.latLng(lat, lng), zoom);
    const half = L.point(el.clientWidth / 2, el.clientHeight / 2);
    const nw = crs.pointToLatLng(mid.subtract(half), zoom);
    const se = crs.pointToLatLng(mid.add(half), zoom);
    return {west: nw.lng, south: se.lat, east: se.lng, north: nw.lat, zoom: Math.round(zoom)};
  }

  function layerOptions(layer, chosen, kind) {
    const values = {};
    (layer[kind] || []).forEach(function (name) { values[name] = chosen[name]; });
    return values;
  }

  // Which layers to fetch: shown ones whose view, query options or live topic changed since
  // they were last fetched. Hidden layers cost nothing; a layer switched off and on again
  // keeps the data it had.
  const lastAsked = {};
  function requestLayers(view, overlays, live, optionValues, spec) {
    const nu = window.dash_clientside.no_update;
    const outputs = window.dash_clientside.callback_context.outputs_list;
    const versions = (live && live.versions) || {};
    const chosen = optionsByName(optionValues, spec);
    return outputs.map(function (output) {
      const name = output.id.name;
      const layer = spec.layers[name];
      if (!view || !layer || !overlays || overlays.indexOf(layer.title) < 0) return nu;
      const version = layer.topic && versions[layer.topic] != null ?
        String(versions[layer.topic]) : "";
      const request = {view: view, options: layerOptions(layer, chosen, "query"),
                       version: version};
      const key = spec.prefix + "/" + name;
      const asked = JSON.stringify(request);
      if (lastAsked[key] === asked) return nu;
      lastAsked[key] = asked;
      return request;
    });
  }

  // A layer's hideout: its declaration's, with the options it is drawn by. Only layers whose
  // hideout changes are sent (a new hideout redraws the whole layer).
  const lastStyled = {};
  function styleLayers(optionValues, spec) {
    const nu = window.dash_clientside.no_update;
    const outputs = window.dash_clientside.callback_context.outputs_list;
    const chosen = optionsByName(optionValues, spec);
    restyleTiles(spec, chosen);
    return outputs.map(function (output) {
      const name = output.id.name, layer = spec.layers[name];
      if (!layer || layer.tiles) return nu;  // a tiled layer's LayerGroup has no hideout
      const styled = styledHideout(layer, chosen);
      const key = spec.prefix + "/" + name, text = JSON.stringify(styled);
      if (lastStyled[key] === undefined) lastStyled[key] = JSON.stringify(layer.initialHideout);
      if (lastStyled[key] === text) return nu;
      lastStyled[key] = text;
      return styled;
    });
  }

  window.onemap = Object.assign(window.onemap || {}, {map: draw});
  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    map: {poll: poll, rememberView: rememberView, viewFromMap: viewFromMap,
          requestLayers: requestLayers, styleLayers: styleLayers},
  });
})();
