// Field capture on the officer's pages: the service worker, the queue's count and list, the report form that
// works with no connection, the district grid's marks. Loaded after idb's umd.js and queue.js, on the pages
// of users who submit reports (base.html: <body data-field-user>). README: "Field capture (offline)".
(function () {
  "use strict";

  const body = document.body;
  const user = body.dataset.fieldUser;
  const queue = self.FieldQueue;
  const PHOTO_LIMIT = 3;
  const PHOTO_SIDE = 1600; // px, the longest side of a photo kept on the device
  const SYNC_TAG = "field-queue";

  const labels = () => document.querySelector("template[data-queue-labels]")?.dataset || {};
  const csrfToken = () => document.querySelector("input[name=csrfmiddlewaretoken]")?.value || "";
  const format = (text, values) => text.replace(/%\((\w+)\)s/g, (_match, name) => values[name] ?? "");

  // --- the service worker: offline pages, Background Sync -------------------------------------------

  async function startWorker() {
    if (!("serviceWorker" in navigator)) return;
    try {
      await navigator.serviceWorker.register(body.dataset.sw, { scope: "/" });
      const registration = await navigator.serviceWorker.ready;
      const key = `field-warm:${user}`;
      if (sessionStorage.getItem(key) !== "done" && navigator.onLine) {
        // The officer's own pages (home, the form for any village, the village list...), once per session.
        await ask(registration.active, { type: "warm" });
        sessionStorage.setItem(key, "done");
      }
      document.documentElement.dataset.offlineReady = "true";
    } catch (error) {
      console.warn("Field capture: the service worker is not available", error);
    }
  }

  function ask(worker, message) {
    return new Promise((resolve) => {
      const channel = new MessageChannel();
      channel.port1.onmessage = (event) => resolve(event.data);
      worker.postMessage(message, [channel.port2]);
    });
  }

  async function requestSync() {
    try {
      const registration = await navigator.serviceWorker?.ready;
      await registration?.sync?.register(SYNC_TAG);
    } catch {
      // No Background Sync here (or not allowed): page loads, `online` and "Send now" flush instead.
    }
  }

  // Logging out: the cached pages are this user's; the queue stays (it is sent at this user's next login).
  document.addEventListener("submit", async (event) => {
    const form = event.target;
    if (!form.matches("form[data-logout]") || form.dataset.cleared) return;
    event.preventDefault();
    sessionStorage.removeItem(`field-warm:${user}`);
    const names = await caches.keys().catch(() => []);
    await Promise.all(names.filter((name) => name.startsWith("field-pages")).map((name) => caches.delete(name)));
    form.dataset.cleared = "true";
    form.submit();
  });

  // --- the queue: count on every page, list, sending -------------------------------------------------

  async function render() {
    const items = await queue.list(user);
    const pending = items.filter((item) => item.state !== queue.State.REFUSED);
    for (const element of document.querySelectorAll("[data-queue-count]")) {
      element.dataset.queueCount = String(pending.length);
      element.textContent = String(pending.length);
      element.classList.toggle("text-bg-warning", pending.length > 0);
      element.classList.toggle("text-bg-secondary", pending.length === 0);
    }
    for (const list of document.querySelectorAll("[data-queue-list]")) {
      list.replaceChildren(...(items.length ? items.map(queueRow) : [emptyRow()]));
    }
  }

  function emptyRow() {
    const row = document.createElement("li");
    row.className = "list-group-item px-0 text-muted";
    row.textContent = labels().empty;
    return row;
  }

  function queueRow(item) {
    const text = labels();
    const row = document.createElement("li");
    row.className = "list-group-item px-0";
    row.dataset.queueItem = item.uuid;
    row.dataset.state = item.state;
    const title = document.createElement("div");
    title.className = "d-flex justify-content-between gap-2";
    const name = document.createElement("strong");
    name.textContent = item.villageName;
    const badge = document.createElement("span");
    const badgeClass = { waiting: "text-bg-warning", refused: "text-bg-danger", login: "text-bg-info" }[item.state];
    badge.className = `badge ${badgeClass} align-self-start`;
    badge.textContent = text[item.state];
    title.append(name, badge);
    const details = document.createElement("div");
    details.className = "text-muted";
    const captured = new Date(item.capturedAt).toLocaleString(document.documentElement.lang || undefined);
    details.textContent = `${text.captured} ${captured} · ${item.photos.length} ${text.photos}`;
    row.append(title, details);
    if (item.reason) {
      const reason = document.createElement("div");
      reason.className = "text-danger";
      reason.dataset.reason = "";
      reason.textContent = item.reason;
      row.append(reason);
    }
    if (item.state === queue.State.REFUSED) {
      const discard = document.createElement("button");
      discard.type = "button";
      discard.className = "btn btn-link btn-sm text-danger p-0";
      discard.textContent = text.discard;
      discard.addEventListener("click", async () => {
        if (window.confirm(text.confirmDiscard)) await queue.remove(item.uuid);
      });
      row.append(discard);
    }
    return row;
  }

  function status(message) {
    for (const element of document.querySelectorAll("[data-queue-status]")) element.textContent = message;
  }

  async function flush() {
    const result = await queue.flush({ user, csrfToken: csrfToken() });
    await render();
    // How many flushes this page has finished: people see the count, tests wait for this.
    const root = document.documentElement;
    root.dataset.queueFlushed = String(Number(root.dataset.queueFlushed || 0) + 1);
    const text = labels();
    if (result.login) status(text.relogin);
    else if (result.kept) status(text.offline);
    return result;
  }

  new BroadcastChannel(queue.CHANNEL).addEventListener("message", (event) => {
    render();
    const sent = event.data?.result?.sent || [];
    const confirmation = document.querySelector("[data-confirmation]");
    for (const report of sent) {
      if (confirmation?.dataset.uuid === report.uuid) {
        confirmation.textContent = format(labels().sent, { village: report.village });
        confirmation.dataset.sent = "true";
      }
    }
  });
  document.addEventListener("click", (event) => {
    if (event.target.closest("[data-send-now]")) flush();
  });
  window.addEventListener("online", () => flush());

  // --- the report form ----------------------------------------------------------------------------

  function newUuid() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = [...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  // The device's time with its offset (2026-12-01T13:05:09+07:00), as the officer's clock showed it.
  function localIso(date) {
    const pad = (number) => String(number).padStart(2, "0");
    const offset = -date.getTimezoneOffset();
    const sign = offset >= 0 ? "+" : "-";
    const day = `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
    const time = `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
    return `${day}T${time}${sign}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`;
  }

  // A camera photo made smaller on the device: longest side PHOTO_SIDE, JPEG (no metadata survives a canvas).
  async function shrink(file) {
    const bitmap = await createImageBitmap(file);
    const scale = Math.min(1, PHOTO_SIDE / Math.max(bitmap.width, bitmap.height));
    const canvas = document.createElement("canvas");
    canvas.width = Math.round(bitmap.width * scale);
    canvas.height = Math.round(bitmap.height * scale);
    canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    bitmap.close();
    return new Promise((resolve, reject) => {
      canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("photo"))), "image/jpeg", 0.85);
    });
  }

  function position() {
    return new Promise((resolve) => {
      if (!navigator.geolocation) return resolve(null);
      navigator.geolocation.getCurrentPosition(
        (found) => resolve({ latitude: found.coords.latitude, longitude: found.coords.longitude }),
        () => resolve(null),
        { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 },
      );
    });
  }

  async function villageOf(page, code) {
    if (page.dataset.villageCode) return null;
    const response = await fetch(page.dataset.villages, { credentials: "same-origin" });
    if (!response.ok) return undefined;
    const { villages } = await response.json();
    return villages.find((village) => village.code === code);
  }

  function fill(page, form, village) {
    const set = (name, text) => {
      const element = page.querySelector(`[data-fill="${name}"]`);
      if (element) element.textContent = text;
    };
    set("regency", village.regency.name);
    set("district", village.district.name);
    set("village", village.name);
    set("title", village.name);
    set("code", village.code);
    document.title = `${document.title} · ${village.name}`;
    for (const [name, value] of Object.entries(village.status)) {
      const field = form.elements[name];
      if (!field) continue;
      if (field.type === "checkbox") field.checked = Boolean(value);
      else field.value = value;
    }
  }

  async function reportForm(page) {
    const form = page.querySelector("form[data-report-form]");
    const code = page.dataset.villageCode || decodeURIComponent(location.pathname.split("/")[3] || "");
    let villageName = page.querySelector('[data-fill="village"]').textContent.trim();
    const village = await villageOf(page, code).catch(() => undefined);
    if (village === undefined) {
      page.querySelector("[data-missing]").hidden = false;
      return;
    }
    if (village) {
      fill(page, form, village);
      villageName = village.name;
      form.action = page.dataset.formUrl.replace("CODE", encodeURIComponent(code));
      form.hidden = false;
    }
    form.querySelector("[data-enhanced]").hidden = false;
    const apiUrl = page.dataset.api.replace("CODE", encodeURIComponent(code));
    const confirmation = page.querySelector("[data-confirmation]");
    const photoInput = form.querySelector("[data-photos]");
    const previews = form.querySelector("[data-photo-previews]");
    let uuid = newUuid();
    let photos = [];

    // No blocker, no blocker note: the note described the blocker being ended.
    form.elements.blocker.addEventListener("change", () => {
      if (!form.elements.blocker.value) form.elements.blocker_note.value = "";
    });

    function showPhotos() {
      for (const image of previews.querySelectorAll("img")) URL.revokeObjectURL(image.src);
      previews.replaceChildren(
        ...photos.map((photo, index) => {
          const image = document.createElement("img");
          image.src = URL.createObjectURL(photo);
          image.alt = `${index + 1}`;
          image.className = "rounded border photo-preview";
          return image;
        }),
      );
      previews.dataset.count = String(photos.length);
    }

    photoInput.addEventListener("change", async () => {
      const files = [...photoInput.files];
      photoInput.value = "";
      if (photos.length + files.length > PHOTO_LIMIT) window.alert(labels().tooMany);
      for (const file of files.slice(0, PHOTO_LIMIT - photos.length)) {
        try {
          photos.push(await shrink(file));
        } catch {
          window.alert(`${file.name}: ${labels().unreadable}`); // a format this browser cannot draw
        }
      }
      showPhotos();
    });

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const capturedAt = localIso(new Date());
      const submit = form.querySelector("button[type=submit]");
      submit.disabled = true;
      try {
        const elements = form.elements;
        const fields = {};
        for (const name of ["pillar1", "pillar2", "pillar3", "signal", "blocker", "blocker_note", "note", "evidence_url"]) {
          fields[name] = elements[name].value.trim();
        }
        fields.signal_sufficient = elements.signal_sufficient.checked ? "true" : "false";
        if (!fields.blocker) fields.blocker_note = "";
        const location = form.querySelector("[data-location]").checked ? await position() : null;
        await queue.add({
          uuid,
          user,
          village: code,
          villageName,
          url: apiUrl,
          fields,
          photos,
          capturedAt,
          location,
          csrf: csrfToken(),
        });
        confirmation.dataset.uuid = uuid;
        delete confirmation.dataset.sent;
        confirmation.textContent = format(labels().saved, { village: villageName });
        confirmation.hidden = false;
        // The next report from this page is another report: a new UUID, no photos, no free text.
        uuid = newUuid();
        photos = [];
        showPhotos();
        elements.note.value = "";
        elements.evidence_url.value = "";
        confirmation.scrollIntoView({ block: "nearest" });
      } finally {
        submit.disabled = false;
      }
      await render();
      requestSync();
      if (navigator.onLine) flush();
    });
    form.dataset.ready = "true";
  }

  // --- the district grid: an edited row is a row to send -------------------------------------------

  function bulkGrid(grid) {
    const counter = document.querySelector("[data-bulk-count]");
    const count = () => {
      const ticked = grid.querySelectorAll("input[name$='-include']:checked").length;
      counter.dataset.bulkCount = String(ticked);
      counter.textContent = format(counter.dataset.template, { count: ticked });
    };
    grid.addEventListener("change", (event) => {
      const row = event.target.closest("tr");
      const include = row?.querySelector("input[name$='-include']");
      if (include && event.target !== include) include.checked = true;
      row?.classList.toggle("table-warning", Boolean(include?.checked));
      count();
    });
    grid.addEventListener("input", (event) => {
      if (event.target.matches("input[type=text]")) event.target.dispatchEvent(new Event("change", { bubbles: true }));
    });
    count();
  }

  // --- start --------------------------------------------------------------------------------------

  navigator.storage?.persist?.().catch(() => {});
  const page = document.querySelector("[data-report-page]");
  if (page) reportForm(page);
  const grid = document.querySelector("[data-bulk-grid]");
  if (grid) bulkGrid(grid);
  startWorker();
  queue
    .resume(user)
    .then(render)
    .then(() => (navigator.onLine ? flush() : null));
})();
