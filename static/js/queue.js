// The offline report queue: reports recorded on the device, kept in IndexedDB until the portal has them.
//
// Loaded by the pages (field.js) and by the service worker (/sw.js, Background Sync), after idb's umd.js.
// Each item is one report: its client UUID (given when the form was opened), the form's fields, the time
// the officer recorded it (captured_at, the device's clock with its offset), optional coordinates and up
// to 3 photos as JPEG Blobs. flush() sends the user's waiting items oldest first, one at a time, to
// POST /api/v1/rollout/{code}/reports/ as multipart form data; the server keeps one report per UUID, so a
// send repeated after a lost answer is harmless. What an answer does to an item:
//   2xx                    sent: removed from the device;
//   401, 403 CSRF, redirect the session is gone: this and every later item -> "login", nothing dropped;
//   other 4xx (400, 409..) refused for its content: "refused" with the reason, the next ones still go;
//   5xx, 408, 429, network kept for later, and the flush stops (the connection is not there).
(function (scope) {
  "use strict";

  const DB_NAME = "field-capture";
  const STORE = "reports";
  const CHANNEL = "field-queue";
  const State = Object.freeze({ WAITING: "waiting", REFUSED: "refused", LOGIN: "login" });

  let database = null;
  function db() {
    database ||= scope.idb.openDB(DB_NAME, 1, {
      upgrade(upgrading) {
        upgrading.createObjectStore(STORE, { keyPath: "uuid" }).createIndex("created", "created");
      },
    });
    return database;
  }

  function announce(message) {
    // Every page of the portal and the service worker listen: counts and lists follow the queue.
    const channel = new BroadcastChannel(CHANNEL);
    channel.postMessage(message);
    channel.close();
  }

  async function add(item) {
    const stored = { ...item, state: State.WAITING, reason: "", created: Date.now() };
    await (await db()).put(STORE, stored);
    announce({ type: "changed" });
    return stored;
  }

  // The user's items, oldest first (all users' with no user: the service worker does not know who is in).
  async function list(user) {
    const items = await (await db()).getAllFromIndex(STORE, "created");
    return user ? items.filter((item) => item.user === user) : items;
  }

  async function update(uuid, changes) {
    const store = (await db()).transaction(STORE, "readwrite").store;
    const item = await store.get(uuid);
    if (item) await store.put({ ...item, ...changes });
  }

  async function remove(uuid) {
    await (await db()).delete(STORE, uuid);
    announce({ type: "changed" });
  }

  // After a new login the items that waited for it are sent again.
  async function resume(user) {
    for (const item of await list(user)) {
      if (item.state === State.LOGIN) await update(item.uuid, { state: State.WAITING, reason: "" });
    }
  }

  function formData(item) {
    const data = new FormData();
    for (const [name, value] of Object.entries(item.fields)) data.append(name, value);
    data.append("client_uuid", item.uuid);
    data.append("captured_at", item.capturedAt);
    if (item.location) {
      data.append("latitude", item.location.latitude.toFixed(6));
      data.append("longitude", item.location.longitude.toFixed(6));
    }
    item.photos.forEach((photo, index) => data.append("photos", photo, `foto-${index + 1}.jpg`));
    return data;
  }

  // The API's refusal as one line: its message, then each field's ("signal_sufficient: ...").
  function reasonOf(status, body) {
    if (!body || typeof body !== "object") return `HTTP ${status}`;
    const parts = [];
    for (const [field, value] of Object.entries(body)) {
      const text = Array.isArray(value) ? value.join(" ") : typeof value === "string" ? value : JSON.stringify(value);
      parts.push(field === "detail" || field === "non_field_errors" ? text : `${field}: ${text}`);
    }
    return parts.join(" · ") || `HTTP ${status}`;
  }

  async function send(item, csrfToken) {
    let response;
    try {
      response = await fetch(item.url, {
        method: "POST",
        body: formData(item),
        credentials: "same-origin",
        redirect: "manual",
        headers: { Accept: "application/json", "X-CSRFToken": csrfToken || item.csrf },
      });
    } catch {
      return { outcome: "kept" };
    }
    if (response.ok) return { outcome: "sent" };
    if (response.type === "opaqueredirect") return { outcome: "login" };
    const body = await response.json().catch(() => null);
    const detail = body && typeof body.detail === "string" ? body.detail : "";
    if (response.status === 401 || (response.status === 403 && detail.includes("CSRF"))) return { outcome: "login" };
    if (response.status >= 500 || response.status === 408 || response.status === 429) return { outcome: "kept" };
    return { outcome: "refused", reason: reasonOf(response.status, body) };
  }

  let running = null;

  // Send the waiting items of `user` (every user's with none), oldest first. One flush at a time.
  function flush({ user = null, csrfToken = null } = {}) {
    running ||= (async () => {
      const result = { sent: [], refused: 0, login: 0, kept: 0 };
      const waiting = (await list(user)).filter((item) => item.state === State.WAITING);
      for (const [index, item] of waiting.entries()) {
        const { outcome, reason } = await send(item, csrfToken);
        if (outcome === "sent") {
          await (await db()).delete(STORE, item.uuid);
          result.sent.push({ uuid: item.uuid, village: item.villageName });
        } else if (outcome === "refused") {
          await update(item.uuid, { state: State.REFUSED, reason });
          result.refused += 1;
        } else if (outcome === "login") {
          for (const later of waiting.slice(index)) await update(later.uuid, { state: State.LOGIN, reason: "" });
          result.login = waiting.length - index;
          break;
        } else {
          result.kept = waiting.length - index;
          break;
        }
      }
      announce({ type: "flushed", result });
      return result;
    })().finally(() => {
      running = null;
    });
    return running;
  }

  scope.FieldQueue = { State, CHANNEL, add, list, remove, resume, flush };
})(self);
