// Times in the viewer's own zone. The server cannot know it, so every page says each instant in
// UTC inside <time datetime="…Z" data-local="style">; this rewrites them in the browser's zone,
// with the zone named, and keeps the UTC text as the element's title. Forms with date-and-time
// inputs carry a hidden time_zone field (UTC without JavaScript): this fills in the browser's
// IANA zone, so the server reads what was typed in the zone it was typed in, and the labels'
// [data-time-zone] spans say which zone that is.
(function () {
  "use strict";
  var zone = "UTC";
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch (err) {
    return;
  }
  // Etc/UTC, Etc/GMT, Universal… are all plain UTC to a reader.
  var shown = /^(Etc\/)?(UTC|UCT|GMT|Universal|Zulu|Greenwich)$/.test(zone) ? "UTC" : zone;

  var fields = {
    minute: { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZoneName: "short" },
    second: {
      hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23", timeZoneName: "short"
    },
    time: {
      hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23", timeZoneName: "short"
    },
    date: {}
  };
  var formats = {};

  function format(style) {
    if (!formats[style]) {
      var options = { timeZone: zone };
      var extra = fields[style];
      Object.keys(extra).forEach(function (key) { options[key] = extra[key]; });
      if (style !== "time") {
        options.year = "numeric";
        options.month = "2-digit";
        options.day = "2-digit";
      }
      formats[style] = new Intl.DateTimeFormat("en-US", options);
    }
    return formats[style];
  }

  // The same shape as the server's UTC text: 2026-05-01 07:30 PDT.
  function local(moment, style) {
    var parts = {};
    format(style).formatToParts(moment).forEach(function (part) {
      parts[part.type] = part.value;
    });
    var date = parts.year ? parts.year + "-" + parts.month + "-" + parts.day : "";
    if (style === "date") {
      return date;
    }
    var clock = parts.hour + ":" + parts.minute + (style === "minute" ? "" : ":" + parts.second);
    return (date ? date + " " : "") + clock + " " + parts.timeZoneName;
  }

  document.querySelectorAll("time[data-local]").forEach(function (element) {
    var style = element.getAttribute("data-local");
    var moment = new Date(element.dateTime);
    if (!fields[style] || isNaN(moment.getTime())) {
      return;
    }
    element.title = element.textContent;
    element.textContent = local(moment, style);
  });

  document.querySelectorAll('input[type="hidden"][name="time_zone"]').forEach(function (input) {
    input.value = zone;
  });
  document.querySelectorAll("[data-time-zone]").forEach(function (label) {
    label.textContent = shown;
  });
})();
