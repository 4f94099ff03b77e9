/* OneMap wall screen: how features are drawn, the live poll, and the URL that remembers the
   screen. Every text that came from a user is put in the page as text (textContent), never
   as HTML: event titles are typed by residents and grid workers. */
(function () {
  "use strict";

  const LEVEL_COLOURS = {1: "#ff1744", 2: "#ff6d00", 3: "#ffc400", 4: "#29b6f6", 5: "#90a4ae"};
  const USE_COLOURS = {residential: "#5c7cfa", commercial: "#f783ac", mixed: "#b197fc",
                       public: "#63e6be", industrial: "#ffa94d"};
  const STAFF_COLOURS = {available: "#69f0ae", busy: "#ffab40"};
  const SENSOR_COLOURS = {normal: "#4dd0e1", alarm: "#ff1744", offline: "#607d8b"};
  const PLACE_COLOUR = "#e599f7";

  function textElement(tag, className, text) {
    const el = document.createElement(tag);
    if (className) el.className = className;
    el.textContent = text == null ? "" : String(text);
    return el;
  }

  function pane(context, fallback) {
    return (context && context.hideout && context.hideout.pane) || fallback;
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

  const wall = {
    wgs84ToGcj02: wgs84ToGcj02,
    gcj02LatLng: function (coords) {
      const p = wgs84ToGcj02(coords[0], coords[1]);
      return L.latLng(p[1], p[0]);
    },

    eventMarker: function (feature, latlng, context) {
      const p = feature.properties;
      return L.circleMarker(latlng, {
        pane: pane(context, "wall-events"),
        radius: p.level <= 2 ? 9 : p.level === 3 ? 7 : 5,
        color: p.overdue ? "#ff1744" : "#0b1420", weight: p.overdue ? 3 : 1,
        fillColor: LEVEL_COLOURS[p.level] || "#90a4ae", fillOpacity: 0.9,
      });
    },
    staffMarker: function (feature, latlng, context) {
      return L.circleMarker(latlng, {
        pane: pane(context, "wall-points"), radius: 4, weight: 1, color: "#0b1420",
        fillColor: STAFF_COLOURS[feature.properties.status] || "#b0bec5", fillOpacity: 0.95,
      });
    },
    sensorMarker: function (feature, latlng, context) {
      const alarm = feature.properties.status === "alarm";
      return L.circleMarker(latlng, {
        pane: pane(context, "wall-points"), radius: alarm ? 8 : 3, weight: alarm ? 2 : 0,
        color: "#ffffff", fillColor: SENSOR_COLOURS[feature.properties.status] || "#607d8b",
        fillOpacity: alarm ? 0.95 : 0.7, className: alarm ? "sensor-alarm" : "",
      });
    },
    placeMarker: function (feature, latlng, context) {
      return L.circleMarker(latlng, {
        pane: pane(context, "wall-points"), radius: 6, weight: 2, color: PLACE_COLOUR,
        fillColor: "#0b1420", fillOpacity: 0.8,
      });
    },
    cameraMarker: function (feature, latlng, context) {
      const online = feature.properties.status === "online";
      return L.circleMarker(latlng, {
        pane: pane(context, "wall-points"), radius: 4, weight: 1, color: "#0b1420",
        fillColor: online ? "#00e676" : "#78909c", fillOpacity: 0.9,
      });
    },
    cameraCluster: function (feature, latlng, index, context) {
      const count = feature.properties.point_count;
      const size = count < 50 ? 30 : count < 500 ? 38 : 46;
      const icon = L.divIcon({
        html: "<div><span></span></div>", className: "camera-cluster",
        iconSize: L.point(size, size),
      });
      const marker = L.marker(latlng, {icon: icon, pane: pane(context, "wall-points")});
      marker.on("add", function () {  // the count as text, not markup
        const span = marker.getElement() && marker.getElement().querySelector("span");
        if (span) span.textContent = String(count);
      });
      return marker;
    },
    heatCell: function (feature, latlng, context) {
      const n = feature.properties.n;
      const t = Math.min(1, Math.log(1 + n) / Math.log(1 + ((context.hideout || {}).top || 20)));
      const hue = 60 - 60 * t;  // yellow to red
      return L.circleMarker(latlng, {
        pane: pane(context, "wall-heat"), radius: 15, stroke: false, interactive: false,
        fillColor: "hsl(" + hue + ", 100%, 50%)", fillOpacity: 0.12 + 0.43 * t,
      });
    },
    labelMarker: function (feature, latlng, context) {
      const icon = L.divIcon({className: "unit-label unit-label-" + feature.properties.level,
                              html: "", iconSize: null});
      const marker = L.marker(latlng, {icon: icon, interactive: false, keyboard: false,
                                       pane: pane(context, "wall-labels")});
      marker.on("add", function () {
        const el = marker.getElement();
        if (el) el.replaceChildren(textElement("span", "", feature.properties.name));
      });
      return marker;
    },
    buildingStyle: function (feature, context) {
      const mode = (context.hideout || {}).colour || "use";
      const p = feature.properties;
      let fill = USE_COLOURS[p.use] || "#868e96";
      if (mode === "residents" || mode === "key_group") {
        const value = mode === "residents" ? p.residents : p.key_group;
        const top = mode === "residents" ? 200 : 30;
        const t = Math.min(1, value / top);
        fill = "hsl(" + (200 - 200 * t) + ", 80%, " + (35 + 20 * t) + "%)";
      }
      return {color: "#0b1420", weight: 0.6, fillColor: fill, fillOpacity: 0.75};
    },
    dispatchStyle: function (feature) {
      const overdue = feature.properties.overdue;
      return {color: overdue ? "#ff1744" : "#40c4ff", weight: overdue ? 2.5 : 1.2,
              opacity: overdue ? 0.95 : 0.6, dashArray: overdue ? null : "4 4"};
    },
    eventTooltip: function (feature, layer, context) {
      const p = feature.properties;
      const states = (context && context.hideout && context.hideout.states) || {};
      const box = document.createElement("div");
      box.appendChild(textElement("div", "tip-title", p.title));
      box.appendChild(textElement("div", "tip-meta", (p.overdue ? "超期 · " : "") +
                                  p.level + "级 · " + (states[p.state] || p.state)));
      layer.bindTooltip(box, {direction: "top", className: "wall-tip"});
    },
    // dash-leaflet's LayersControl forgets the overlays checked at start (its handlers see the
    // props of the first render), so the checked list is read from the control itself
    overlaysChanged: function () {
      const labels = document.querySelectorAll("#wall-map .leaflet-control-layers-overlays label");
      const checked = [...labels].filter(function (l) {
        const input = l.querySelector("input");
        return input && input.checked;
      }).map(function (l) { return l.textContent.trim(); });
      window.dash_clientside.set_props("wall-overlays", {data: checked});
    },
    nameTooltip: function (feature, layer) {
      layer.bindTooltip(textElement("div", "tip-title", feature.properties.name),
                        {direction: "top", className: "wall-tip"});
    },
  };

  // -- the live poll: 204 means nothing changed (no body); the screen says when it is cut off
  const STATUS_TEXT = {
    "ok": "● 实时 Live",
    "offline": "⚠ 与服务器的连接中断，正在重试 · Connection lost, retrying",
    "server-error": "⚠ 服务器或数据库不可用，正在重试 · Server or database down, retrying",
    "signed-out": "⚠ 登录已过期 · Signed out",
  };
  let lastStatus = null;
  function status(kind) {  // [text, class]; unchanged ones are not sent to the page again
    const nu = window.dash_clientside.no_update;
    if (kind === lastStatus) return [nu, nu];
    lastStatus = kind;
    return [STATUS_TEXT[kind], "wall-status " + kind];
  }

  async function poll(_n, live) {
    const nu = window.dash_clientside.no_update;
    const since = live && live.token ? "?since=" + encodeURIComponent(live.token) : "";
    let response;
    try {
      response = await fetch("/api/live" + since, {credentials: "same-origin", cache: "no-store"});
    } catch (e) {
      return [nu].concat(status("offline"));
    }
    if (response.status === 204) return [nu].concat(status("ok"));
    if (response.status === 401) {
      window.location.assign("/login?next=" + encodeURIComponent(location.pathname + location.search));
      return [nu].concat(status("signed-out"));
    }
    if (!response.ok) return [nu].concat(status("server-error"));
    return [await response.json()].concat(status("ok"));
  }

  // -- the URL remembers layers, view and options, so a reloaded screen comes back the same.
  // replaceState, not a dcc.Location: the page router would rebuild the page on every change.
  function rememberView(overlays, zoom, center, colour, window_, titles) {
    const params = new URLSearchParams(location.search);
    if (overlays) params.set("layers", overlays.map(function (t) { return titles[t] || t; }).join(","));
    if (zoom != null) params.set("z", String(Math.round(zoom * 4) / 4));
    if (center) {
      const lat = Array.isArray(center) ? center[0] : center.lat;
      const lng = Array.isArray(center) ? center[1] : center.lng;
      params.set("lat", Number(lat).toFixed(5));
      params.set("lng", Number(lng).toFixed(5));
    }
    if (colour) params.set("colour", colour);
    if (window_) params.set("window", window_);
    const url = location.pathname + "?" + params.toString().replace(/%2C/g, ",");
    if (url !== location.pathname + location.search) history.replaceState(history.state, "", url);
    return window.dash_clientside.no_update;
  }

  // The map's viewport from its centre and zoom and the size it is drawn at. dash-leaflet
  // reports `bounds` only after a move, not for the first view; centre and zoom it always has.
  function viewFromMap(_loads, zoom, center) {
    const el = document.getElementById("wall-map");
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

  // Which layers to fetch: shown ones whose view, options or live topic changed since they
  // were last fetched. Hidden layers cost nothing; a layer switched off and on again keeps
  // the data it had.
  const lastAsked = {};
  function requestLayers(view, overlays, live, heatWindow, spec) {
    const nu = window.dash_clientside.no_update;
    const outputs = window.dash_clientside.callback_context.outputs_list;
    const versions = (live && live.versions) || {};
    return outputs.map(function (output) {
      const name = output.id.name;
      const layer = spec[name];
      if (!view || !layer || !overlays || overlays.indexOf(layer.title) < 0) return nu;
      const version = layer.topic && versions[layer.topic] != null ?
        String(versions[layer.topic]) : "";
      const request = {view: view, window: name === "heatmap" ? heatWindow : null,
                       version: version};
      const key = JSON.stringify(request);
      if (lastAsked[name] === key) return nu;
      lastAsked[name] = key;
      return request;
    });
  }

  function clock() {
    const now = new Date();
    return now.toLocaleString("zh-CN", {hour12: false, timeZone: "Asia/Shanghai",
      year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
      second: "2-digit", weekday: "short"});
  }

  window.onemap = Object.assign(window.onemap || {}, {wall: wall});
  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    wall: {poll: poll, rememberView: rememberView, clock: clock, viewFromMap: viewFromMap,
           requestLayers: requestLayers},
  });
})();
