{% autoescape off %}// The portal's service worker (portal/pwa.py renders it at /sw.js). README: "Field capture (offline)".
//
// - Keeps the static files every officer page loads (Workbox precaching, from static/vendor/workbox-7.4.1).
// - Keeps the officer's own pages after a login (the page asks: "warm"): home, the report form of any
//   village, the regency's villages with their status, the queue, the own reports. They are fetched from
//   the network first and come from the cache only when there is no connection. The report form of a
//   village never opened online is the village-less form, which field.js fills in from the village list.
//   Logging out deletes these pages (field.js); the static files are the same for everyone and stay.
// - Sends the offline report queue (queue.js) on Background Sync, where the browser has it.
importScripts(...{{ scripts }});

const CONFIG = {{ config }};
const PAGES = "field-pages";
const FORM = /^\/rollout\/villages\/[^/]+\/report\/$/;
const KEEP = "X-Field-Capture";
const keep = (response) => response.status === 200 && !response.redirected && response.headers.get(KEEP) === "keep";
const kept = (url) => url.origin === self.location.origin && (CONFIG.warm.includes(url.pathname) || FORM.test(url.pathname));

workbox.core.setCacheNameDetails({ prefix: "field", precache: "static" });
workbox.core.skipWaiting();
workbox.core.clientsClaim();
workbox.precaching.precacheAndRoute(CONFIG.precache);
workbox.precaching.cleanupOutdatedCaches();

const pages = new workbox.strategies.NetworkFirst({
  cacheName: PAGES,
  networkTimeoutSeconds: 8,
  plugins: [
    {
      // Only an officer's own page (the portal marks them): not a redirect to the login page, not an error,
      // not another role's page.
      cacheWillUpdate: async ({ response }) => (keep(response) ? response : null),
    },
  ],
});

workbox.routing.registerRoute(
  ({ url, request }) => request.method === "GET" && url.search === "" && kept(url),
  async (options) => {
    try {
      return await pages.handle(options);
    } catch (error) {
      if (FORM.test(options.url.pathname)) {
        const form = await (await caches.open(PAGES)).match(CONFIG.form);
        if (form) return form;
      }
      throw error;
    }
  },
);

async function warm() {
  const cache = await caches.open(PAGES);
  const outcomes = await Promise.allSettled(
    CONFIG.warm.map(async (url) => {
      const response = await fetch(url, { credentials: "same-origin" });
      if (!keep(response)) throw new Error(`${url}: ${response.status}`);
      await cache.put(url, response);
    }),
  );
  return outcomes.filter((outcome) => outcome.status === "fulfilled").length;
}

self.addEventListener("message", (event) => {
  if (event.data?.type !== "warm") return;
  event.waitUntil(warm().then((count) => event.ports[0]?.postMessage({ warmed: count })));
});

self.addEventListener("sync", (event) => {
  if (event.tag !== "field-queue") return;
  // Each item goes with the CSRF token of the page it was recorded on; a rejected promise makes the browser
  // try again later when the connection is still missing.
  event.waitUntil(
    FieldQueue.flush().then((result) => {
      if (result.kept) throw new Error("no connection");
    }),
  );
});
{% endautoescape %}
