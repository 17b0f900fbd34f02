/* sipfsm site: the small interpreter of the model pages, the timer calculator, the ladder
   player and the ABNF filter. No library, no network: everything it reads is embedded in the
   page as JSON by sipfsm/site (<script type="application/json" id="...">).
   The model interpreter follows the engine (sipfsm/engine/runner.py): a rule decides a
   (state, event) pair; its actions run in order (start, stop, backoff doubling to the cap,
   restart), then the state is entered. */
"use strict";

function readJSON(id) {
  const el = document.getElementById(id);
  return el ? JSON.parse(el.textContent) : null;
}

function el(tag, attrs, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

function fmt(seconds) {
  if (seconds === null) return "—";
  if (!isFinite(seconds)) return "∞";
  return (Math.round(seconds * 1000) / 1000).toString() + " s";
}

/* Interval expressions of models/timers.toml: 33, T1, 64*T1, none, at_cap(E). */
function evalExpr(expr, base, timers) {
  if (expr === null || expr === undefined || expr === "none") return null;
  const cap = /^at_cap\((\w+)\)$/.exec(expr);
  if (cap) return timeUntilAtCap(timers[cap[1]], base, timers);
  const parts = expr.split("*");
  if (parts.length === 2) return parseFloat(parts[0]) * base[parts[1]];
  return expr in base ? base[expr] : parseFloat(expr);
}

/* RFC 4320 4.1: the time a doubling timer started on UDP takes to be reset to its cap. */
function timeUntilAtCap(spec, base, timers) {
  let interval = evalExpr(spec.unreliable, base, timers);
  const ceiling = spec.cap ? evalExpr(spec.cap, base, timers) : null;
  if (interval === null || ceiling === null || spec.backoff !== "double" || interval <= 0) {
    return Infinity;
  }
  let elapsed = 0;
  for (;;) {
    elapsed += interval;
    interval = Math.min(2 * interval, ceiling);
    if (interval >= ceiling) return elapsed;
  }
}

/* ---------------------------------------------------------------- the RFC text panel */
function sectionText(anchor) {
  const node = document.getElementById(anchor);
  if (!node) return null;
  const pre = node.querySelector("pre");
  return pre ? pre.textContent : node.textContent;
}

function showDetail(title, rows, anchor, ui) {
  const panel = document.getElementById("detail");
  panel.replaceChildren();
  panel.appendChild(el("h3", {}, title));
  for (const [name, value] of rows) {
    if (!value) continue;
    const p = el("p");
    p.appendChild(el("b", {}, name + ": "));
    p.appendChild(document.createTextNode(value));
    panel.appendChild(p);
  }
  if (anchor) {
    const text = sectionText(anchor);
    const head = el("p", { class: "rfc-head" });
    const link = el("a", { href: "#" + anchor }, ui.rfc_text + " (" + anchor.slice(4) + ")");
    head.appendChild(link);
    panel.appendChild(head);
    panel.appendChild(el("pre", { class: "rfc", id: "detail-rfc" }, text || ui.not_shipped));
  }
}

/* ---------------------------------------------------------------- the model interpreter */
function modelPage() {
  const M = readJSON("model-data");
  const L = readJSON("labels-data");
  const U = readJSON("ui-data");
  const S = {
    profile: Object.keys(M.profiles).includes("rfc6026") ? "rfc6026" : Object.keys(M.profiles)[0],
    transport: "udp", now: 0, current: null, running: {}, last: {}, log: [], choice: {},
  };
  const P = () => M.profiles[S.profile];
  const base = () => ({
    T1: parseFloat(document.getElementById("t1").value) || M.base.T1,
    T2: parseFloat(document.getElementById("t2").value) || M.base.T2,
    T4: parseFloat(document.getElementById("t4").value) || M.base.T4,
  });
  const reliable = () => S.transport !== "udp";
  const live = (t) => M.timers[t] && M.timers[t].profiles.includes(S.profile);
  const value = (expr) => evalExpr(expr, base(), M.timers);
  const actionText = (a) => {
    const label = L.actions[a[0]] || a[0];
    return label.replace("{timer}", a[1]).replace("{interval}", a[2]);
  };
  const log = (text) => S.log.push(fmt(S.now).padStart(9) + "  " + text);

  function startTimer(t, interval) {
    if (interval === null) return;
    S.running[t] = { deadline: S.now + interval, interval: interval };
    S.last[t] = interval;
  }

  function run(actions) {
    for (const a of actions) {
      const [verb, t, interval] = a;
      if (t && !live(t)) continue;
      const spec = M.timers[t];
      if (verb === "start") {
        startTimer(t, value(reliable() ? spec.reliable : spec.unreliable));
      } else if (verb === "stop") {
        delete S.running[t];
      } else if (verb === "backoff") {
        const last = S.last[t] !== undefined ? S.last[t] : value(spec.unreliable);
        const ceiling = spec.cap ? value(spec.cap) : Infinity;
        startTimer(t, Math.min(2 * last, ceiling));
      } else if (verb === "restart") {
        startTimer(t, value(interval));
      }
      log(actionText(a));
    }
  }

  function holds(guard) {
    if (!guard) return true;
    if (guard === "reliable") return reliable();
    if (guard === "unreliable") return !reliable();
    return null; /* the student chooses */
  }

  /* The rules that may decide an event now: one, or one per guard the page cannot resolve. */
  function options(event) {
    const rules = P().rules.filter((r) => r.source === S.current && r.event === event);
    const sure = rules.filter((r) => holds(r.guard) === true);
    if (sure.length) return sure.slice(0, 1);
    return rules.filter((r) => holds(r.guard) === null);
  }

  function take(rule) {
    const ev = L.events[rule.event] || rule.event;
    const guard = rule.guard ? " [" + (L.guards[rule.guard] || rule.guard) + "]" : "";
    if (rule.kind === "ignore") {
      log(ev + guard + ": " + U.ignored);
    } else if (rule.kind === "error") {
      log(ev + guard + ": " + U.error_pair);
    } else {
      log(ev + guard);
      run(rule.actions);
      if (rule.dest) {
        S.current = rule.dest;
        log(U.enter + " " + rule.dest);
      }
    }
    S.lastRule = rule;
    render();
    showRule(rule);
  }

  function fire(event) {
    const opts = options(event);
    if (opts.length) take(opts[0]);
  }

  function nextTimer() {
    let best = null;
    for (const [t, r] of Object.entries(S.running)) {
      if (best === null || r.deadline < S.running[best].deadline) best = t;
    }
    return best;
  }

  function expire(t) {
    S.now = S.running[t].deadline;
    delete S.running[t];
    const event = "timer_" + t;
    if (M.events.includes(event)) {
      const opts = options(event);
      if (opts.length) { take(opts[0]); return; }
    }
    log(U.timer + " " + t + " " + U.fires);
  }

  function advance(seconds) {
    const until = S.now + seconds;
    for (;;) {
      const t = nextTimer();
      if (t === null || S.running[t].deadline > until) break;
      expire(t);
    }
    S.now = until;
    render();
  }

  function reset() {
    S.now = 0; S.running = {}; S.last = {}; S.log = []; S.lastRule = null;
    S.current = M.initial;
    log(L.events[M.start.event] || M.start.event);
    run(M.start.actions);
    log(U.enter + " " + M.initial);
    render();
  }

  function visibleSvg() {
    return document.querySelector('svg.diagram[data-profile="' + S.profile + '"]');
  }

  function render() {
    document.querySelectorAll("svg.diagram").forEach((svg) => {
      svg.classList.toggle("shown", svg.dataset.profile === S.profile);
      svg.querySelectorAll("g.node.current, g.edge.taken").forEach((g) => {
        g.classList.remove("current", "taken");
      });
    });
    const svg = visibleSvg();
    const node = svg.querySelector('g.node[data-state="' + S.current + '"]');
    if (node) node.classList.add("current");
    if (S.lastRule && S.lastRule.edge !== null && S.lastRule.edge !== undefined) {
      const edge = svg.querySelector('g.edge[data-edge="' + S.lastRule.edge + '"]');
      if (edge) edge.classList.add("taken");
    }
    document.getElementById("current").textContent = S.current;
    document.getElementById("clock").textContent = fmt(S.now);
    const box = document.getElementById("events");
    box.replaceChildren();
    for (const event of M.events) {
      const rules = P().rules.filter((r) => r.source === S.current && r.event === event);
      const opts = options(event);
      const list = opts.length ? opts : rules.slice(0, 1);
      for (const rule of list) {
        const guard = rule.guard && holds(rule.guard) === null ? " [" + (L.guards[rule.guard] || rule.guard) + "]" : "";
        const b = el("button", { class: "event " + rule.kind, "data-event": event,
          "data-guard": rule.guard || "", title: rule.section }, (L.events[event] || event) + guard);
        b.addEventListener("click", () => take(rule));
        box.appendChild(b);
      }
    }
    const rows = document.getElementById("timer-rows");
    rows.replaceChildren();
    for (const [t, r] of Object.entries(S.running).sort()) {
      const tr = el("tr", { "data-timer": t });
      tr.appendChild(el("td", {}, t));
      tr.appendChild(el("td", {}, fmt(r.interval)));
      tr.appendChild(el("td", { class: "remaining" }, fmt(r.deadline - S.now)));
      rows.appendChild(tr);
    }
    const next = nextTimer();
    document.getElementById("advance").disabled = next === null;
    document.getElementById("trace").textContent = S.log.join("\n");
  }

  function timersOf(actions) {
    return actions.filter((a) => a[1]).map(actionText).join(", ");
  }

  function showRule(rule) {
    const ev = (L.events[rule.event] || rule.event) + (rule.guard ? " [" + (L.guards[rule.guard] || rule.guard) + "]" : "");
    showDetail(rule.source + " → " + (rule.dest || rule.source) + ": " + ev, [
      [U.kind, U["kind_" + rule.kind]],
      [U.label, rule.label],
      [U.actions, rule.actions.filter((a) => !a[1]).map(actionText).join(", ")],
      [U.timers, timersOf(rule.actions)],
      [U.why, rule.doc],
      [U.section, rule.section],
    ], rule.anchor, U);
  }

  function showState(name) {
    const st = P().states.find((s) => s.name === name) ||
      Object.values(M.profiles).flatMap((p) => p.states).find((s) => s.name === name);
    const timers = P().rules.filter((r) => r.source === name && r.event.startsWith("timer_"))
      .map((r) => r.event.slice(6));
    showDetail(name, [
      [U.explanation, L.states[name]],
      [U.timers_waited, [...new Set(timers)].join(", ")],
      [U.section, st ? st.section : ""],
    ], st ? st.anchor : null, U);
  }

  function showEdge(index) {
    const edge = P().edges[index];
    const rules = edge.rules.map((i) => P().rules[i]);
    if (rules.length) { showRule(rules[0]); return; }
    showDetail(edge.source + " → " + edge.dest, [[U.label, edge.label], [U.kind, U.removed]],
      edge.anchor, U);
  }

  document.querySelectorAll("svg.diagram").forEach((svg) => {
    svg.addEventListener("click", (e) => {
      const g = e.target.closest("g.node[data-state], g.edge[data-edge], g.edge[data-start]");
      if (!g) return;
      e.preventDefault();
      if (g.dataset.state) showState(g.dataset.state);
      else if (g.dataset.edge !== undefined) showEdge(parseInt(g.dataset.edge, 10));
      else showDetail(M.start.event, [[U.actions, M.start.actions.map(actionText).join(", ")]],
        M.start.anchor, U);
    });
  });
  document.getElementById("profile").addEventListener("change", (e) => {
    S.profile = e.target.value; reset();
  });
  document.getElementById("transport").addEventListener("change", (e) => {
    S.transport = e.target.value; reset();
  });
  for (const id of ["t1", "t2", "t4"]) document.getElementById(id).addEventListener("change", reset);
  document.getElementById("advance").addEventListener("click", () => {
    const t = nextTimer();
    if (t !== null) { expire(t); render(); }
  });
  document.getElementById("plus1").addEventListener("click", () => advance(1));
  document.getElementById("reset").addEventListener("click", reset);
  const side = document.getElementById("side-by-side");
  if (side) side.addEventListener("click", () => {
    document.getElementById("diagrams").classList.toggle("both");
  });
  document.getElementById("profile").value = S.profile;
  reset();
}

/* ---------------------------------------------------------------- the timer calculator */
function timersPage() {
  const D = readJSON("timers-data");
  function update() {
    const base = {};
    for (const k of ["T1", "T2", "T4"]) {
      base[k] = parseFloat(document.getElementById(k.toLowerCase()).value) || D.base[k];
    }
    document.querySelectorAll("tr[data-timer]").forEach((tr) => {
      const spec = D.timers[tr.dataset.timer];
      tr.querySelector(".udp").textContent = fmt(evalExpr(spec.unreliable, base, D.timers));
      tr.querySelector(".tcp").textContent = fmt(evalExpr(spec.reliable, base, D.timers));
      const seq = tr.querySelector(".sequence");
      if (seq && spec.backoff === "double") {
        let t = evalExpr(spec.unreliable, base, D.timers);
        const cap = spec.cap ? evalExpr(spec.cap, base, D.timers) : Infinity;
        const out = [];
        let at = 0;
        for (let i = 0; i < 7 && t !== null; i++) { at += t; out.push(fmt(at)); t = Math.min(2 * t, cap); }
        seq.textContent = out.join(", ") + " …";
      }
    });
  }
  for (const id of ["t1", "t2", "t4"]) document.getElementById(id).addEventListener("input", update);
  update();
}

/* ---------------------------------------------------------------- the ladder player */
function ladderPage() {
  const D = readJSON("scenario-data");
  const U = readJSON("ui-data");
  let shown = 0;
  let timer = null;
  function render() {
    document.querySelectorAll("g.msg").forEach((g) => {
      const n = parseInt(g.dataset.row, 10);
      g.classList.toggle("hidden", n >= shown);
      g.classList.toggle("now", n === shown - 1);
    });
    const row = shown > 0 ? D.messages[shown - 1] : null;
    document.getElementById("step-label").textContent = row ? row.label : U.not_started;
    document.getElementById("message").textContent = row ? row.message : "";
    document.getElementById("count").textContent = shown + " / " + D.messages.length;
    const states = {};
    for (let i = 0; i < shown; i++) {
      for (const [host, state] of D.messages[i].states) states[host] = state;
    }
    document.querySelectorAll("[data-host-state]").forEach((td) => {
      td.textContent = states[td.dataset.hostState] || "—";
    });
  }
  function step() {
    if (shown < D.messages.length) shown += 1;
    if (shown >= D.messages.length) stop();
    render();
  }
  function stop() { if (timer !== null) { clearInterval(timer); timer = null; } }
  document.getElementById("step").addEventListener("click", () => { stop(); step(); });
  document.getElementById("back").addEventListener("click", () => {
    stop(); if (shown > 0) shown -= 1; render();
  });
  document.getElementById("play").addEventListener("click", () => {
    stop(); if (shown >= D.messages.length) shown = 0;
    timer = setInterval(step, parseInt(document.getElementById("speed").value, 10));
  });
  document.getElementById("end").addEventListener("click", () => {
    stop(); shown = D.messages.length; render();
  });
  document.querySelectorAll("g.msg").forEach((g) => {
    g.addEventListener("click", () => { stop(); shown = parseInt(g.dataset.row, 10) + 1; render(); });
  });
  render();
}

/* ---------------------------------------------------------------- the ABNF filter */
function abnfPage() {
  const box = document.getElementById("filter");
  box.addEventListener("input", () => {
    const q = box.value.trim().toLowerCase();
    document.querySelectorAll("div.rule").forEach((d) => {
      d.classList.toggle("hidden", q !== "" && !d.dataset.name.includes(q));
    });
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const page = document.body.dataset.page;
  if (page === "model") modelPage();
  else if (page === "timers") timersPage();
  else if (page === "scenario") ladderPage();
  else if (page === "abnf") abnfPage();
});
