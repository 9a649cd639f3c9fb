/* Parkwacht map layers (the builders in service/maps/ embed the data, this file draws it).
 *
 * Every text that comes from the data (park names, factor labels, signal subtypes) is put on the page with
 * textContent, never innerHTML: a park named "<img src=x onerror=...>" shows as that text and runs nothing.
 * Colours are set through the CSSOM (element.style), which the Content-Security-Policy allows.
 */
(function () {
  "use strict";

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }

  /* Google's polyline algorithm: (lat, lon) integer offsets, 5 bits per character. */
  function decode(str, precision) {
    var factor = Math.pow(10, precision), out = [], i = 0, lat = 0, lon = 0;
    while (i < str.length) {
      var b, shift = 0, result = 0;
      do { b = str.charCodeAt(i++) - 63; result |= (b & 0x1f) << shift; shift += 5; } while (b >= 0x20);
      lat += (result & 1) ? ~(result >> 1) : (result >> 1);
      shift = 0; result = 0;
      do { b = str.charCodeAt(i++) - 63; result |= (b & 0x1f) << shift; shift += 5; } while (b >= 0x20);
      lon += (result & 1) ? ~(result >> 1) : (result >> 1);
      out.push([lat / factor, lon / factor]);
    }
    return out;
  }

  function latlngs(polys, precision) {
    return polys.map(function (rings) { return rings.map(function (r) { return decode(r, precision); }); });
  }

  function fmt(n, locale, digits) {
    if (n === null || n === undefined) { return "\u2013"; }
    return Number(n).toLocaleString(locale || "nl", {minimumFractionDigits: digits, maximumFractionDigits: digits});
  }

  function parksLayer(d) {
    var group = L.featureGroup(), lab = d.labels, none = d.colors.length - 1;
    d.parks.forEach(function (row) {
      var id = row[0], name = row[1], score = row[2], cls = row[3], tops = row[4], geom = row[5];
      var clsName = cls >= 0 ? d.classes[cls] : null, color = d.colors[cls >= 0 ? cls : none];
      var poly = L.polygon(latlngs(geom, d.precision), {
        color: color, weight: 1.5, opacity: 0.9, fillColor: color, fillOpacity: 0.45,
        className: "pw-park pw-park-" + (clsName || "none")
      });
      poly.bindTooltip(function () {
        var box = el("div", "pw-tip");
        box.appendChild(el("strong", "pw-tip-name", name));
        var line = score === null ? lab.no_score
          : lab.score + " " + fmt(score, lab.locale, 1) + " \u00b7 " + (lab.classes[clsName] || clsName);
        box.appendChild(el("div", "pw-tip-score", line));
        return box;
      }, {sticky: true, direction: "top", opacity: 0.95});
      if (d.url !== null) {
        poly.bindPopup(function () {
          var box = el("div", "pw-popup");
          box.appendChild(el("strong", "pw-popup-name", name));
          box.appendChild(el("div", "pw-popup-score", score === null ? lab.no_score
            : lab.score + " " + fmt(score, lab.locale, 2) + " \u00b7 " + lab.risk_class + " " + (lab.classes[clsName] || clsName)));
          if (score !== null) {
            box.appendChild(el("div", "pw-popup-head", lab.top_factors));
            if (tops.length) {
              var ol = el("ol", "pw-popup-factors");
              tops.forEach(function (t) {
                ol.appendChild(el("li", null, d.factors[t[0]] + ": " + fmt(t[1], lab.locale, 2) + " " + lab.points));
              });
              box.appendChild(ol);
            } else {
              box.appendChild(el("div", "pw-popup-none", lab.no_factors));
            }
          }
          var a = el("a", "pw-park-link", lab.park_link);
          a.href = d.url + encodeURIComponent(String(id)) + (d.suffix || "");
          box.appendChild(a);
          return box;
        }, {maxWidth: 320});
      }
      poly.on("add", function () {
        var e = poly.getElement();
        if (e) { e.setAttribute("data-park-id", String(id)); }
      });
      group.addLayer(poly);
    });
    return group;
  }

  function signalsLayer(d) {
    var markers = d.points.map(function (p) {
      var type = d.types[p[2]];
      var m = L.circleMarker([p[0] / d.scale, p[1] / d.scale], {
        radius: 5, color: "#ffffff", weight: 1, fillColor: type[1], fillOpacity: 0.9, className: "pw-signal"
      });
      m.bindTooltip(function () {
        var box = el("div", "pw-tip");
        box.appendChild(el("strong", null, type[0]));
        box.appendChild(el("div", null, p[3] + (p[4] ? " \u00b7 " + p[4] : "")));
        return box;
      }, {direction: "top"});
      return m;
    });
    if (d.cluster && L.markerClusterGroup) {
      var cluster = L.markerClusterGroup({chunkedLoading: true, showCoverageOnHover: false, maxClusterRadius: 50});
      cluster.addLayers(markers);
      return cluster;
    }
    return L.featureGroup(markers);
  }

  function hotspotsLayer(d) {
    var lab = d.labels;
    return L.featureGroup(d.areas.map(function (a) {
      var hot = a[0] === 1, color = hot ? "#b2182b" : "#2166ac";
      var area = L.polygon(latlngs(a[4], d.precision), {
        color: color, weight: 2, opacity: 0.9, fillColor: color, fillOpacity: 0.08, dashArray: hot ? null : "4 4",
        className: "pw-hotspot pw-hotspot-" + (hot ? "hot" : "cold")
      });
      area.bindTooltip(function () {
        var box = el("div", "pw-tip");
        box.appendChild(el("strong", null, hot ? lab.hot : lab.cold));
        box.appendChild(el("div", null, a[1] + " " + lab.parks_in_cluster
          + (a[2] === null ? "" : " \u00b7 " + lab.p_value + " \u2265 " + fmt(a[2], lab.locale, 3))));
        if (a[3].length) {
          var ul = el("ul", "pw-tip-list");
          a[3].forEach(function (n) { ul.appendChild(el("li", null, n)); });
          if (a[1] > a[3].length) { ul.appendChild(el("li", null, "\u2026")); }
          box.appendChild(ul);
        }
        return box;
      }, {sticky: true, direction: "top"});
      return area;
    }));
  }

  function outlinesLayer(d) {
    return L.featureGroup(d.items.map(function (it) {
      var poly = L.polygon(latlngs(it[1], d.precision), {
        color: "#154273", weight: 2, opacity: 0.8, fill: false, dashArray: "6 4", className: "pw-outline"
      });
      poly.bindTooltip(function () { return el("div", "pw-tip", it[0]); }, {sticky: true});
      return poly;
    }));
  }

  function legend(map, d) {
    var control = L.control({position: d.position || "bottomright"});
    control.onAdd = function () {
      var box = el("div", "pw-legend leaflet-control");
      box.setAttribute("role", "list");
      box.appendChild(el("div", "pw-legend-title", d.title));
      d.items.forEach(function (it) {
        var row = el("div", "pw-legend-item");
        row.setAttribute("role", "listitem");
        var sw = el("span", "pw-swatch pw-swatch-" + it.shape);
        if (it.shape === "ring" || it.shape === "area") { sw.style.borderColor = it.color; } else { sw.style.backgroundColor = it.color; }
        row.appendChild(sw);
        row.appendChild(el("span", "pw-legend-label", it.label));
        box.appendChild(row);
      });
      L.DomEvent.disableClickPropagation(box);
      return box;
    };
    control.addTo(map);
    return control;
  }

  function ready(map) {
    map.whenReady(function () {
      window.requestAnimationFrame(function () {
        window.parkwachtReadyAt = window.performance.now();
        document.documentElement.setAttribute("data-map-ready", "1");
      });
    });
  }

  window.Parkwacht = {
    parksLayer: parksLayer, signalsLayer: signalsLayer, hotspotsLayer: hotspotsLayer,
    outlinesLayer: outlinesLayer, legend: legend, ready: ready, decode: decode
  };
}());
