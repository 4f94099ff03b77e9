/* The dispatch desk's own bits (pages/desk.py): picking a queue and a case, the URL that
   remembers them with the filters, flying the map to the case, report mode, and the keyboard.
   The server checks everything that arrives (callbacks/desk.py); this only says what was
   clicked or pressed. Its map is the shared component (assets/map.js). */
(function () {
  "use strict";

  function noUpdate() { return window.dash_clientside.no_update; }

  function clicked() {  // the pattern id of what was clicked, or null (a list redrawn)
    const context = window.dash_clientside.callback_context;
    if (!context.triggered_id || !context.triggered.length || !context.triggered[0].value) {
      return null;
    }
    return context.triggered_id;
  }

  function chooseQueue() {
    const id = clicked();
    return id && id.queue ? id.queue : noUpdate();
  }

  // -- the queue's list: rows drawn here from plain values (callbacks/desk_view.queue_row), as
  // text, never as markup; a click picks the case (the server checks it: callbacks/desk.py)
  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function rowOf(row) {
    const item = element("li", "desk-row level-" + Number(row.level) + " time-" + row.kind);
    item.dataset.case = String(Number(row.id));
    const top = element("div", "desk-row-top");
    top.appendChild(element("span", "desk-level", Number(row.level) + "级"));
    top.appendChild(element("span", "desk-row-code", row.code));
    (row.tags || []).forEach(function (tag) {
      top.appendChild(element("span", "desk-tag desk-tag-" + tag[1], tag[0]));
    });
    top.appendChild(element("span", "desk-due desk-due-" + row.kind, row.left));
    item.appendChild(top);
    item.appendChild(element("div", "desk-row-title", row.title));
    const meta = element("div", "desk-row-meta");
    (row.meta || []).forEach(function (part) { meta.appendChild(element("span", null, part)); });
    item.appendChild(meta);
    return item;
  }

  function drawList(rows, selected) {
    const list = document.getElementById("desk-list");
    if (!list || !Array.isArray(rows)) return noUpdate();
    const items = rows.length ? rows.map(rowOf)
      : [element("li", "desk-empty", "此队列暂无案件 · Nothing in this queue")];
    list.replaceChildren.apply(list, items);
    if (selected !== null && selected !== undefined) markSelected(selected, false);
    return noUpdate();
  }

  function pickRow(event) {
    const row = event.target.closest && event.target.closest(".desk-row");
    if (!row || !row.dataset.case || !window.dash_clientside.set_props) return;
    const caseId = Number(row.dataset.case);
    markSelected(caseId, true);
    window.dash_clientside.set_props("desk-case", {data: caseId});
  }
  document.addEventListener("click", pickRow);

  function markSelected(caseId, scroll) {  // at once, before the server's answer comes
    document.querySelectorAll(".desk-row.selected").forEach(function (row) {
      row.classList.remove("selected");
    });
    const row = document.querySelector('.desk-row[data-case="' + Number(caseId) + '"]');
    if (row) {
      row.classList.add("selected");
      if (scroll) row.scrollIntoView({block: "nearest"});
    }
  }

  // the URL's keys (pages/desk_filters.py: URL_KEYS); the map keeps its own (assets/map.js)
  const KEYS = ["queue", "case", "unit", "cat", "level", "channel", "period", "from", "to", "q"];
  function rememberDesk() {
    const values = Array.prototype.slice.call(arguments);
    const params = new URLSearchParams(location.search);
    KEYS.forEach(function (key, i) {
      const value = values[i];
      const unset = value === null || value === undefined || value === "" ||
        (key === "period" && value === "all");
      if (unset) params.delete(key); else params.set(key, String(value));
    });
    const url = location.pathname + "?" + params.toString().replace(/%2C/g, ",");
    if (url !== location.pathname + location.search) history.replaceState(history.state, "", url);
    return noUpdate();
  }

  function customDates(period) { return period !== "custom"; }

  function fly(place, zoom) {
    if (!place || typeof place.lat !== "number") return noUpdate();
    return {center: [place.lat, place.lng], zoom: Math.max(zoom || 0, 17), transition: "flyTo"};
  }

  function toggleReport(_n, on) {
    const next = !on;
    return [next, "desk-map-area" + (next ? " reporting" : ""),
            "desk-report-toggle" + (next ? " on" : "")];
  }

  function pickPoint(clickData, on) {
    if (!on || !clickData || !clickData.latlng) return noUpdate();
    return {lat: clickData.latlng.lat, lng: clickData.latlng.lng};
  }

  function cancelReport() { return [true, []]; }

  // -- the keyboard: the common steps, the next and previous case, the search box. Never while
  // the officer types in a field (or holds a modifier: the browser's own shortcuts stay).
  function typing(target) {
    if (!target) return false;
    const tag = target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable;
  }

  function step(direction) {
    const rows = Array.prototype.slice.call(document.querySelectorAll(".desk-row"));
    if (!rows.length) return;
    const at = rows.findIndex(function (row) { return row.classList.contains("selected"); });
    const next = at < 0 ? 0 : Math.min(rows.length - 1, Math.max(0, at + direction));
    if (next !== at) rows[next].click();
  }

  function onKey(event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    if (!document.querySelector(".desk")) return;
    const key = event.key.toLowerCase();
    if (key === "j") { step(1); event.preventDefault(); return; }
    if (key === "k") { step(-1); event.preventDefault(); return; }
    if (key === "/") {
      const search = document.getElementById("desk-text");
      if (search) { search.focus(); event.preventDefault(); }
      return;
    }
    const button = document.querySelector('.desk-action[data-shortcut="' + key + '"]');
    if (button && !button.disabled && !button.closest("[hidden]")) {
      button.click();
      event.preventDefault();
    }
  }
  document.addEventListener("keydown", onKey);

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    desk: {chooseQueue: chooseQueue, drawList: drawList, rememberDesk: rememberDesk,
           customDates: customDates, fly: fly, toggleReport: toggleReport, pickPoint: pickPoint,
           cancelReport: cancelReport},
  });
})();
