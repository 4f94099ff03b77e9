/* 领导驾驶舱 The cockpit's browser side (pages/cockpit.py): the URL that remembers the view,
   and the choropleth's colours and tooltips; the appraisal page's URL (pages/appraisal.py). The server checks everything that arrives
   (callbacks/cockpit.py); this only draws and remembers. */
(function () {
  "use strict";

  function noUpdate() { return window.dash_clientside.no_update; }

  // the view's query (pages/cockpit_url.py: CockpitView.query) as the page's URL
  function remember(view) {
    if (!view) return noUpdate();
    const params = new URLSearchParams();
    Object.keys(view).forEach(function (key) { params.set(key, String(view[key])); });
    const url = location.pathname + "?" + params.toString();
    if (url !== location.pathname + location.search) history.replaceState(history.state, "", url);
    const pdf = document.getElementById("cockpit-pdf");  // the report of what is on screen
    if (pdf) pdf.href = "/cockpit/report.pdf?" + params.toString();
    return noUpdate();
  }

  // red → amber → green from worse to better (a KPI where less is better runs the other way)
  const RAMP = ["#e57373", "#f0a35e", "#f5c542", "#aed581", "#66bb6a"];
  // a volume, where neither end is better: one hue, darker for more
  const VOLUME = ["#cfe8f7", "#9fd2f0", "#5fb3e3", "#2f86c4", "#1b5a8f"];
  function colour(value, hideout) {
    if (value === null || value === undefined) return "#2b4560";
    const span = hideout.high - hideout.low;
    let share = span > 0 ? (value - hideout.low) / span : 1;
    if (!hideout.higherIsBetter) share = 1 - share;
    const ramp = hideout.neutral ? VOLUME : RAMP;
    return ramp[Math.min(ramp.length - 1, Math.floor(share * ramp.length))];
  }

  function unitStyle(feature, context) {
    const hideout = (context && context.hideout) || {};
    return {color: "#0b1420", weight: 1.2, fillOpacity: 0.78,
            fillColor: colour(feature.properties.value, hideout)};
  }

  // each unit's name and figure on it (a leader reads the map without hovering)
  function unitTooltip(feature, layer) {
    layer.bindTooltip(feature.properties.label, {permanent: true, direction: "center",
                                                 className: "cockpit-tooltip"});
  }

  // the appraisal page's month and level (pages/appraisal.py)
  function rememberAppraisal(month, level) {
    const params = new URLSearchParams(location.search);
    if (month) params.set("month", month); else params.delete("month");
    if (level) params.set("level", level); else params.delete("level");
    const url = location.pathname + "?" + params.toString();
    if (url !== location.pathname + location.search) history.replaceState(history.state, "", url);
    return noUpdate();
  }

  // on a wall: the next side panel each turn, and the next map KPI each full round
  function rotate(_n, tab, kpi, rotation) {
    const tabs = rotation.tabs, kpis = rotation.kpis;
    const next = (tabs.indexOf(tab) + 1) % tabs.length;
    let nextKpi = window.dash_clientside.no_update;
    if (next === 0) nextKpi = kpis[(kpis.indexOf(kpi) + 1) % kpis.length];
    return [tabs[next], nextKpi];
  }

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    cockpit: {remember: remember, rotate: rotate},
    appraisal: {remember: rememberAppraisal},
  });
  window.onemap = window.onemap || {};
  window.onemap.cockpit = {unitStyle: unitStyle, unitTooltip: unitTooltip};
})();
