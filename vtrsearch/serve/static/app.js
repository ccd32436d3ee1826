// vtrsearch search page: plain JS, no build step, no third-party code.
// Every text from the server (ids, captions, categories, errors) goes through textContent,
// never parsed as markup, so it is shown as text whatever it contains.
"use strict";

const $ = (id) => document.getElementById(id);
const PREVIEWS = 24; // results that preview their clip when there is no stored thumbnail
const state = { info: null, hits: [], current: null, seq: 0 };

function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function setStatus(text, isError) {
  const s = $("status");
  s.textContent = text || "";
  s.classList.toggle("error", !!isError);
  s.setAttribute("role", isError ? "alert" : "status");
}

async function api(path, options) {
  const resp = await fetch(path, Object.assign({ credentials: "same-origin" }, options || {}));
  if (resp.status === 204) return null;
  let body = null;
  try { body = await resp.json(); } catch (e) { body = null; }
  if (!resp.ok) {
    let msg = body && body.detail !== undefined ? body.detail : resp.statusText;
    if (Array.isArray(msg)) msg = msg.map((d) => `${(d.loc || []).slice(-1)[0]}: ${d.msg}`).join("; ");
    const err = new Error(String(msg));
    err.status = resp.status;
    throw err;
  }
  return body;
}

// ---- URL state ---------------------------------------------------------------------------
function readUrl() {
  const p = new URLSearchParams(location.search);
  return {
    q: p.get("q") || "", k: p.get("k") || "", category: p.get("category") || "",
    split: p.get("split") || "", head: p.get("head") || "", compare: p.get("compare") === "1",
    moments: p.get("moments") === "1", play: p.get("play") || "", t: p.get("t") || "",
  };
}

function formState() {
  return {
    q: $("q").value.trim(), k: $("k").value, category: $("category").value,
    split: $("split").value, head: $("head").value, compare: $("compare").checked,
    moments: $("moments").checked,
  };
}

function writeUrl(s, push) {
  const p = new URLSearchParams();
  for (const key of ["q", "k", "category", "split", "head", "play", "t"]) {
    if (s[key]) p.set(key, s[key]);
  }
  if (s.compare) p.set("compare", "1");
  if (s.moments) p.set("moments", "1");
  const url = `${location.pathname}?${p.toString()}`;
  if (push) history.pushState(null, "", url); else history.replaceState(null, "", url);
}

function applyToForm(s) {
  $("q").value = s.q;
  if (s.k) setSelect($("k"), s.k, true);
  setSelect($("category"), s.category);
  setSelect($("split"), s.split);
  if (s.head) setSelect($("head"), s.head);
  $("compare").checked = s.compare;
  $("moments").checked = s.moments && state.info && state.info.moments;
}

function setSelect(select, value, addMissing) {
  const has = Array.from(select.options).some((o) => o.value === value);
  if (!has && addMissing && value) select.append(new Option(value, value));
  if (has || addMissing) select.value = value;
}

// ---- set-up ------------------------------------------------------------------------------
async function start() {
  bindKeys();
  $("search").addEventListener("submit", (ev) => { ev.preventDefault(); submit(); });
  $("login").addEventListener("submit", (ev) => { ev.preventDefault(); login(); });
  $("close").addEventListener("click", closePlayer);
  $("more").addEventListener("click", () => {
    if (!state.current) return;
    $("q").value = `like:${state.current.video_id}`;
    submit();
  });
  $("head").addEventListener("change", updateCompare);
  window.addEventListener("popstate", () => restore());
  try {
    const health = await api("/api/health");
    if (health.auth && !health.authorised) {
      $("login").hidden = false;
      $("key").focus();
      setStatus("Enter the server's API key.");
      return;
    }
    await loadInfo();
  } catch (e) {
    setStatus(`Cannot reach the server: ${e.message}`, true);
  }
}

async function login() {
  try {
    await api("/api/session", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ key: $("key").value }),
    });
    $("key").value = "";
    $("login").hidden = true;
    await loadInfo();
  } catch (e) {
    setStatus(e.status === 401 ? "Wrong API key." : e.message, true);
  }
}

async function loadInfo() {
  const info = await api("/api/info");
  state.info = info;
  const cats = info.categories.filter((c) => c.count > 0)
    .sort((a, b) => a.name.localeCompare(b.name));
  for (const c of cats) $("category").append(new Option(`${c.name} (${c.count})`, c.name));
  for (const [name, count] of Object.entries(info.splits)) {
    if (name) $("split").append(new Option(`${name} (${count})`, name));
  }
  for (const h of info.heads) $("head").append(new Option(h === "baseline" ? "baseline (no head)" : h, h));
  if (!info.heads.length) $("head-label").hidden = true;
  $("head").value = info.default_head;
  $("moments-label").hidden = !info.moments;
  $("q").maxLength = info.max_query_chars;
  if (!info.text_queries) $("q").placeholder = "like:<video_id>  (this index has no text encoder)";
  updateCompare();
  setStatus(`${info.videos} videos · ${info.encoder || "no text encoder"}`);
  await restore();
}

function updateCompare() {
  const canCompare = $("head").value && $("head").value !== "baseline"
    && state.info && state.info.heads.includes("baseline");
  $("compare-label").hidden = !canCompare;
  if (!canCompare) $("compare").checked = false;
}

async function restore() {
  const s = readUrl();
  applyToForm(s);
  updateCompare();
  if (s.q) await runSearch(formState());
  if (s.play) {
    const hit = state.hits.find((h) => h.video_id === s.play) || { video_id: s.play };
    await openPlayer(hit, s.t ? Number(s.t) : null, false);
  } else {
    closePlayer(false);
  }
}

// ---- searching ---------------------------------------------------------------------------
function submit() {
  const s = formState();
  if (!s.q) { $("q").focus(); return; }
  writeUrl(s, true);
  runSearch(s);
}

function searchUrl(s, head) {
  const p = new URLSearchParams({ q: s.q, k: s.k || "20" });
  if (s.category) p.append("category", s.category);
  if (s.split) p.append("split", s.split);
  if (head) p.set("head", head);
  if (s.moments) p.set("moments", "true");
  return `/api/search?${p.toString()}`;
}

async function runSearch(s) {
  const seq = ++state.seq;
  setStatus("Searching…");
  const heads = s.compare ? ["baseline", s.head] : [s.head];
  try {
    const answers = await Promise.all(heads.map((h) => api(searchUrl(s, h))));
    if (seq !== state.seq) return; // a newer search started meanwhile
    renderResults(answers, s.compare);
    const first = answers[0];
    const how = first.mode === "like" ? "videos like" : first.encoder || "";
    setStatus(`${first.results.length} results for “${first.query}” · ${how} · ${first.took_ms} ms`);
  } catch (e) {
    if (seq !== state.seq) return;
    renderResults([], false);
    setStatus(e.message, true);
  }
}

function renderResults(answers, compare) {
  const box = $("results");
  box.replaceChildren();
  box.classList.toggle("compare", compare);
  state.hits = [];
  for (const answer of answers) {
    const column = el("section", "column");
    if (compare) column.append(el("h2", null, answer.head === "baseline" ? "baseline" : `head ${answer.head}`));
    const grid = el("ol", "grid");
    answer.results.forEach((hit, i) => grid.append(card(hit, i)));
    column.append(grid);
    box.append(column);
    state.hits.push(...answer.results);
  }
  markCurrent();
}

function card(hit, i) {
  const li = el("li");
  const btn = el("button", "card");
  btn.type = "button";
  btn.dataset.videoId = hit.video_id;
  btn.dataset.start = String(hit.start || 0);
  btn.setAttribute("aria-label", `Play ${hit.video_id}, ${hit.category_name}, score ${hit.score.toFixed(3)}`);
  btn.append(thumb(hit, i));
  const meta = el("div", "meta");
  const top = el("div", "top");
  top.append(el("span", "id", `${hit.rank}. ${hit.video_id}`), el("span", "score", hit.score.toFixed(3)));
  meta.append(top, el("span", "cat", hit.category_name));
  if (hit.start !== null && hit.start !== undefined) {
    meta.append(el("span", "moment", `moment ${fmt(hit.start)}–${fmt(hit.end)} s`));
  }
  if (hit.caption) meta.append(el("span", "caption", hit.caption));
  btn.append(meta);
  btn.addEventListener("click", () => openPlayer(hit, hit.start, true));
  li.append(btn);
  return li;
}

function thumb(hit, i) {
  if (hit.thumbnail) {
    const img = el("img", "thumb");
    img.alt = "";
    img.loading = "lazy";
    img.addEventListener("error", () => img.replaceWith(placeholder(hit)), { once: true });
    img.src = hit.thumbnail;
    return img;
  }
  if (hit.media && i < PREVIEWS) {
    const v = el("video", "thumb");
    v.muted = true;
    v.preload = "metadata";
    v.tabIndex = -1;
    v.src = `${hit.media}#t=${Number(hit.start || 0.5)}`;
    return v;
  }
  return placeholder(hit);
}

function placeholder(hit) {
  const ph = el("div", "thumb placeholder", (hit.category_name || "?").slice(0, 1).toUpperCase());
  ph.style.background = `hsl(${(hit.category * 47) % 360} 45% 42%)`;
  return ph;
}

function fmt(x) { return x === null || x === undefined ? "?" : Number(x).toFixed(1); }

// ---- the player --------------------------------------------------------------------------
async function openPlayer(hit, at, push) {
  state.current = hit;
  const start = at === null || at === undefined || Number.isNaN(at) ? 0 : Math.max(0, at);
  const s = Object.assign(formState(), { play: hit.video_id, t: start ? String(start) : "" });
  writeUrl(s, push);
  $("player").hidden = false;
  $("layout").classList.add("playing");
  $("player-title").textContent = hit.video_id;
  markCurrent();
  const video = $("video");
  delete video.dataset.seekedTo;
  let info = null;
  try {
    info = await api(`/api/videos/${encodeURIComponent(hit.video_id)}`);
  } catch (e) {
    setStatus(e.message, true);
  }
  if (state.current !== hit) return;
  renderFacts(hit, info);
  const media = (info && info.media) || hit.media;
  $("no-media").hidden = !!media;
  video.hidden = !media;
  if (!media) { video.removeAttribute("src"); video.load(); return; }
  video.onloadedmetadata = () => {
    video.onloadedmetadata = null;
    video.addEventListener("seeked", () => { video.dataset.seekedTo = String(start); }, { once: true });
    video.currentTime = Math.min(start, Math.max(0, (video.duration || start) - 0.05));
    video.play().catch(() => { video.muted = true; video.play().catch(() => {}); });
  };
  video.src = media;
}

function renderFacts(hit, info) {
  const facts = $("facts");
  facts.replaceChildren();
  const add = (k, v) => {
    if (v === null || v === undefined || v === "") return;
    facts.append(el("dt", null, k), el("dd", null, v));
  };
  add("category", (info && info.category_name) || hit.category_name);
  add("split", info && info.split);
  if (hit.score !== undefined) add("score", hit.score.toFixed(4));
  if (hit.start !== null && hit.start !== undefined) add("moment", `${fmt(hit.start)}–${fmt(hit.end)} s`);
  if (info && info.url) add("source", info.url);
  if (info && info.segments && info.segments.length) add("segments", String(info.segments.length));
  const list = $("captions");
  list.replaceChildren();
  for (const c of (info && info.captions) || []) list.append(el("li", null, c));
}

function closePlayer(update) {
  const video = $("video");
  video.pause();
  $("player").hidden = true;
  $("layout").classList.remove("playing");
  state.current = null;
  markCurrent();
  if (update !== false) writeUrl(Object.assign(formState(), { play: "", t: "" }), false);
}

function markCurrent() {
  const id = state.current && state.current.video_id;
  for (const b of document.querySelectorAll(".card")) {
    b.setAttribute("aria-current", String(b.dataset.videoId === id));
  }
}

// ---- keyboard ----------------------------------------------------------------------------
function bindKeys() {
  document.addEventListener("keydown", (ev) => {
    const typing = ["INPUT", "SELECT", "TEXTAREA"].includes(document.activeElement.tagName);
    if (ev.key === "/" && !typing) { ev.preventDefault(); $("q").focus(); $("q").select(); return; }
    if (ev.key === "Escape" && !$("player").hidden) { closePlayer(); return; }
    if (typing || !document.activeElement.classList.contains("card")) return;
    const cards = Array.from(document.activeElement.closest(".grid").querySelectorAll(".card"));
    const i = cards.indexOf(document.activeElement);
    const perRow = Math.max(1, Math.round(cards[0].closest(".grid").clientWidth / cards[0].offsetWidth));
    const step = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: perRow, ArrowUp: -perRow }[ev.key];
    if (step === undefined) return;
    ev.preventDefault();
    const next = cards[Math.min(cards.length - 1, Math.max(0, i + step))];
    if (next) next.focus();
  });
}

start();
