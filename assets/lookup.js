/* The look-up page's own bits (pages/lookup.py): the URL that remembers unit, building and
   room; the chosen room marked in the building table; the purpose box of an unmask. The server
   checks everything that arrives (callbacks/lookup.py); this only says what was clicked. Its
   map is the shared component (assets/map.js). */
(function () {
  "use strict";

  function noUpdate() { return window.dash_clientside.no_update; }

  // the page's URL keys (pages/lookup.py: URL_KEYS); the map keeps its own (assets/map.js)
  const KEYS = ["unit", "building", "room"];
  function remember() {
    const values = Array.prototype.slice.call(arguments);
    const params = new URLSearchParams(location.search);
    KEYS.forEach(function (key, i) {
      const value = values[i];
      if (value === null || value === undefined || value === "") params.delete(key);
      else params.set(key, String(value));
    });
    const url = location.pathname + "?" + params.toString().replace(/%2C/g, ",");
    if (url !== location.pathname + location.search) history.replaceState(history.state, "", url);
    return noUpdate();
  }

  // Dash names a pattern-matched component by its id as JSON with sorted keys
  function roomButton(room) {
    return document.getElementById(JSON.stringify({id: room, type: "lookup-pick-room"}));
  }

  function markRoom(room) {
    document.querySelectorAll(".lookup-room.chosen").forEach(function (node) {
      node.classList.remove("chosen");
    });
    const button = room ? roomButton(room) : null;
    if (button) {
      button.classList.add("chosen");
      button.scrollIntoView({block: "nearest", inline: "nearest"});
    }
    return noUpdate();
  }

  function askPurpose() {
    const context = window.dash_clientside.callback_context;
    if (!context.triggered_id || !context.triggered.length || !context.triggered[0].value) {
      return noUpdate();
    }
    const box = document.getElementById("lookup-unmask-box");
    if (box) {
      box.hidden = false;
      const input = document.getElementById("lookup-purpose");
      if (input) input.focus();
    }
    return context.triggered_id.id;
  }

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    lookup: {remember: remember, markRoom: markRoom, askPurpose: askPurpose},
  });
})();
