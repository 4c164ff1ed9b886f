// Dangan review: the one script of the application (no build step, no third-party code).
// The task page is worked by keyboard alone: Enter confirms, typing corrects, Tab goes to the next
// field that needs a look, Alt+N saves and takes the next task, Alt+P postpones, Alt+R rejects,
// Alt+W shows the whole page. Checks re-run on the server as the reviewer types.
"use strict";

function post(url, csrf, body, extraHeaders) {
  return fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: Object.assign({ "Content-Type": "application/json", "X-CSRF-Token": csrf, Accept: "application/json" }, extraHeaders || {}),
    body: JSON.stringify(body || {}),
  });
}

// Group verification: one item per document, the same field in each; the grid is worked like the task page.
function groupPage(group) {
  const csrf = group.dataset.csrf;
  const form = document.getElementById("group-form");
  const items = Array.from(group.querySelectorAll("div.item"));
  const inputs = items.map((item) => item.querySelector("input.v"));
  const timers = new Map();

  function mark(item, state) {
    item.classList.remove("confirmed", "corrected");
    if (state) item.classList.add(state);
    item.querySelector("input.m").value = state || "";
    item.querySelector(".state").textContent = state || "";
    item.querySelector(".corr").hidden = state !== "corrected";
  }
  function showCheck(item, result) {
    item.classList.toggle("bad", !result.ok);
    item.dataset.ok = result.ok ? "yes" : "no";
    item.querySelector(".check").textContent = result.ok ? "" : (result.reason || "fails its check");
  }
  function check(input) {
    const item = input.closest("div.item");
    clearTimeout(timers.get(item));
    timers.set(item, setTimeout(async () => {
      const r = await post("/api/check", csrf, { form_id: item.dataset.form || null, key: group.dataset.key, value: input.value });
      if (r.ok) showCheck(item, await r.json());
    }, 120));
  }
  function focusItem(i) {
    const target = inputs[Math.max(0, Math.min(i, inputs.length - 1))];
    if (target) { target.focus(); target.select(); }
  }
  function nextOpen(from) {
    for (let k = 1; k <= inputs.length; k++) {
      const i = (from + k) % inputs.length;
      if (!items[i].classList.contains("confirmed") && !items[i].classList.contains("corrected")) return i;
    }
    return -1;
  }
  function submit(action) {
    document.getElementById("action").value = action;
    clearInterval(beat);
    form.requestSubmit();
  }
  items.forEach((item) => { item.dataset.ok = item.classList.contains("bad") ? "no" : "yes"; });
  inputs.forEach((input, i) => {
    const item = items[i];
    input.addEventListener("input", () => {
      mark(item, input.value === item.dataset.original ? null : "corrected");
      check(input);
    });
    input.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && !ev.altKey && !ev.ctrlKey) {
        ev.preventDefault();
        if (item.dataset.required === "yes" && item.dataset.ok === "no") return;  // a failing value is not confirmed
        if (input.value === item.dataset.original) mark(item, "confirmed");
        const next = nextOpen(i);
        if (next >= 0) focusItem(next); else document.getElementById("save-next").focus();
      } else if (ev.key === "Tab" && !ev.altKey && !ev.ctrlKey) {
        ev.preventDefault();
        focusItem(ev.shiftKey ? i - 1 : (i + 1) % inputs.length);
      }
    });
  });
  group.querySelectorAll("button[data-action]").forEach((b) => {
    b.addEventListener("click", () => { document.getElementById("action").value = b.dataset.action; clearInterval(beat); });
  });
  document.addEventListener("keydown", (ev) => {
    if (!ev.altKey || ev.ctrlKey) return;
    const key = ev.key.toLowerCase();
    if (key === "a") {
      ev.preventDefault();
      items.forEach((item, i) => {
        if (!item.classList.contains("corrected") && item.dataset.ok === "yes" && inputs[i].value === item.dataset.original) mark(item, "confirmed");
      });
      document.getElementById("save-next").focus();
    } else if ({ n: 1, s: 1, g: 1 }[key]) {
      ev.preventDefault();
      submit({ n: "save_next", s: "save", g: "give_back" }[key]);
    }
  });
  const beat = setInterval(() => {
    items.forEach((item) => post(`/tasks/${item.dataset.task}/heartbeat`, csrf, {}, { "X-Lease-Token": item.dataset.token }));
  }, 60000);
  focusItem(0);
}

(function () {
  const group = document.getElementById("group");
  if (group) { groupPage(group); return; }
  const task = document.getElementById("task");
  if (!task) {
    const next = document.getElementById("take-next");
    if (next) next.focus();
    return;
  }
  const csrf = task.dataset.csrf;
  const form = document.getElementById("task-form");
  const rows = Array.from(document.querySelectorAll("tr.field"));
  const inputs = rows.map((row) => row.querySelector("input.v"));
  const timers = new Map();


  function rowOf(input) { return input.closest("tr.field"); }

  function showCheck(row, result) {
    row.classList.toggle("bad", !result.ok);
    row.querySelector(".check").textContent = result.ok ? "" : (result.reason || "fails its check");
    row.dataset.ok = result.ok ? "yes" : "no";
    updateSave();
  }

  function check(input) {
    const row = rowOf(input);
    clearTimeout(timers.get(row));
    timers.set(row, setTimeout(async () => {
      const r = await post("/api/check", csrf, { form_id: task.dataset.form || null, key: row.dataset.key, value: input.value });
      if (r.ok) showCheck(row, await r.json());
    }, 120));
  }

  function mark(row, state) {
    row.classList.remove("confirmed", "corrected");
    if (state) row.classList.add(state);
    row.querySelector("td.state").textContent = state || "";
    row.querySelector(".corr").hidden = state !== "corrected";
  }

  function updateSave() {
    // A required field that fails its check keeps the document from being released.
    const blocked = rows.some((row) => row.dataset.required === "yes" && row.dataset.ok === "no");
    document.getElementById("save-next").disabled = blocked;
  }

  function focusField(i) {
    const target = inputs[Math.max(0, Math.min(i, inputs.length - 1))];
    if (target) { target.focus(); target.select(); }
  }

  function nextOpen(from) {
    for (let i = from + 1; i < inputs.length; i++) if (!rowOf(inputs[i]).classList.contains("confirmed")) return i;
    return -1;
  }

  function submit(action) {
    document.getElementById("action").value = action;
    if (action === "reject" && !document.getElementById("note").value.trim()) {
      document.getElementById("note").focus();
      return;
    }
    clearInterval(beat);
    form.requestSubmit();
  }

  inputs.forEach((input, i) => {
    rowOf(input).dataset.ok = rowOf(input).classList.contains("bad") ? "no" : "yes";
    input.addEventListener("input", () => {
      const row = rowOf(input);
      mark(row, input.value === row.dataset.original ? null : "corrected");
      check(input);
    });
    input.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && !ev.altKey && !ev.ctrlKey) {
        ev.preventDefault();
        const row = rowOf(input);
        if (input.value === row.dataset.original) mark(row, "confirmed");
        const next = nextOpen(i);
        if (next >= 0) focusField(next);
        else document.getElementById("save-next").focus();
      } else if (ev.key === "Tab" && !ev.altKey && !ev.ctrlKey) {
        ev.preventDefault();
        focusField(ev.shiftKey ? i - 1 : (i + 1) % inputs.length);
      }
    });
  });

  document.querySelectorAll("button[data-action]").forEach((b) => {
    b.addEventListener("click", () => { document.getElementById("action").value = b.dataset.action; clearInterval(beat); });
  });

  document.addEventListener("keydown", (ev) => {
    if (!ev.altKey || ev.ctrlKey) return;
    const key = ev.key.toLowerCase();
    const action = { n: "save_next", p: "postpone", r: "reject" }[key];
    if (action) {
      ev.preventDefault();
      if (action === "save_next" && document.getElementById("save-next").disabled) return;
      submit(action);
    } else if (key === "d") {
      ev.preventDefault();
      const tools = document.getElementById("doc-tools");
      tools.open = !tools.open;
      if (tools.open) { document.getElementById(document.getElementById("split-at").disabled ? "merge-why" : "split-at").focus(); }
    } else if (key === "w") {
      ev.preventDefault();
      const whole = document.getElementById("whole");
      whole.querySelectorAll("img[data-src]").forEach((img) => { img.src = img.dataset.src; img.removeAttribute("data-src"); });
      whole.hidden = !whole.hidden;
    }
  });

  // Keep the lease while the page is open; a lost lease is said at once, not at save time.
  const beat = setInterval(async () => {
    const r = await post(`/tasks/${task.dataset.task}/heartbeat`, csrf, {}, { "X-Lease-Token": task.dataset.token });
    const body = await r.json();
    if (r.ok) document.getElementById("lease-until").textContent = body.expires_at.slice(11, 19);
    else { clearInterval(beat); alert(body.detail); }
  }, 60000);

  updateSave();
  focusField(0);
})();
