/* Tells the server the browser's time zone in a cookie, so that times read in the visitor's
   zone from the next page on, until they choose one on their account page. Without this
   script times read in their organization's zone, or in UTC. */
(function () {
  "use strict";
  var zone;
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
  if (!zone || zone.length > 64) return;
  var current = document.cookie.split("; ").filter(function (c) { return c.indexOf("tz=") === 0; })[0];
  // IANA names (letters, "/", "_", "-", "+") are all valid cookie characters as they are.
  if (!/^[A-Za-z0-9_\/+-]+$/.test(zone)) return;
  var value = zone;
  if (current === "tz=" + value) return;
  var secure = location.protocol === "https:" ? "; Secure" : "";
  document.cookie = "tz=" + value + "; Path=/; Max-Age=31536000; SameSite=Lax" + secure;
})();
