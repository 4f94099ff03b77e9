/* The wall screen's own bits (pages/wall.py); its map is the shared component (assets/map.js). */
(function () {
  "use strict";

  function clock() {
    const now = new Date();
    return now.toLocaleString("zh-CN", {hour12: false, timeZone: "Asia/Shanghai",
      year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
      second: "2-digit", weekday: "short"});
  }

  // a click in the feed or the banner asks the map's card for that case or alarm; the server
  // checks what arrives (callbacks/viewport_map.py), this only says which was clicked
  const BANNER_KEY = /^(event|alarm|overdue):([0-9]{1,15})$/;
  function select() {
    const nu = window.dash_clientside.no_update;
    const context = window.dash_clientside.callback_context;
    const trigger = context.triggered_id;
    if (!trigger || !context.triggered.length || !context.triggered[0].value) return nu;
    if (trigger.type === "wall-feed-item") return {kind: "events", id: trigger.id, at: Date.now()};
    const key = BANNER_KEY.exec(trigger.key || "");
    if (!key) return nu;
    return {kind: key[1] === "alarm" ? "alarms" : "events", id: Number(key[2]), at: Date.now()};
  }

  // a link to one case (/wall?event=<id>): its card, once, when the page opens
  function selectFromUrl() {
    const id = new URLSearchParams(location.search).get("event") || "";
    if (!/^[0-9]{1,15}$/.test(id)) return window.dash_clientside.no_update;
    return {kind: "events", id: Number(id), at: Date.now()};
  }

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    wall: {clock: clock, select: select, selectFromUrl: selectFromUrl},
  });
})();
