// The mapping playground: a mapping editor checked as you type (the server runs
// `bondmap check`'s checker on the text), an order editor, the request the mapping writes
// for the order (or its rejection), and a field's `explain` on a click. Everything comes
// from the binary that serves the page; nothing from anywhere else.
import { EditorView, basicSetup } from "codemirror";
import { EditorState } from "@codemirror/state";
import { json } from "@codemirror/lang-json";
import { linter, lintGutter } from "@codemirror/lint";
import { mapLanguage } from "./maplang.js";

const $ = (id) => document.getElementById(id);

// How long typing must pause before the order is mapped again, and before a check.
const MAP_DELAY_MS = 300;
const CHECK_DELAY_MS = 200;

const state = {
  file: null, // the mapping file edited, relative to the mapping root
  saved: "", // its text as last read or saved
  mapping: null, // EditorView
  order: null, // EditorView
  mapSeq: 0, // the newest map request; older answers are dropped
  explainSeq: 0,
  field: null, // the field explained
  timer: null,
};

async function api(path, body) {
  const opts =
    body === undefined
      ? {}
      : {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify(body),
        };
  const r = await fetch(path, opts);
  const data = await r.json().catch(() => ({ error: `${r.status} ${r.statusText}` }));
  if (!r.ok) throw new Error(data.error || `${r.status} ${r.statusText}`);
  return data;
}

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== undefined && v !== null) e.setAttribute(k, v);
  }
  e.append(...children.filter((c) => c !== undefined && c !== null));
  return e;
}

function status(text, kind) {
  const s = $("status");
  s.textContent = text;
  s.className = kind || "";
}

function text(view) {
  return view.state.doc.toString();
}

function setText(view, t) {
  view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: t } });
}

// ---- the check, as you type ------------------------------------------------------

// One problem as a line of the list under the editor.
function problemItem(p) {
  const where = p.line ? `${p.here ? "" : p.file + ":"}${p.line}:${p.column}` : p.file;
  const li = el(
    "li",
    { class: `problem ${p.severity}`, "data-code": p.code },
    el("span", { class: "where" }, where),
    " ",
    el("span", { class: "code" }, p.code),
    " ",
    el("span", { class: "message" }, p.message),
    p.help ? el("div", { class: "help" }, `help: ${p.help}`) : null,
  );
  if (p.here && p.from !== null) {
    li.classList.add("here");
    li.addEventListener("click", () => {
      const at = Math.min(p.from, state.mapping.state.doc.length);
      state.mapping.dispatch({ selection: { anchor: at }, scrollIntoView: true });
      state.mapping.focus();
    });
  }
  return li;
}

function showProblems(problems) {
  const list = $("problems");
  list.replaceChildren(...problems.map(problemItem));
  const errors = problems.filter((p) => p.severity === "error").length;
  const warnings = problems.length - errors;
  $("check-summary").textContent =
    problems.length === 0 ? "no problems" : `${errors} error(s), ${warnings} warning(s)`;
  $("check-summary").className = errors ? "bad" : "good";
}

// The lint source: the server's check of the text, at its spans.
async function checkMapping(view) {
  const doc = view.state.doc;
  let problems;
  try {
    problems = (await api("/api/check", { path: state.file, text: doc.toString() })).problems;
  } catch (e) {
    status(`check: ${e.message}`, "bad");
    return [];
  }
  // A newer text is being checked already.
  if (view.state.doc !== doc) return [];
  showProblems(problems);
  return problems
    .filter((p) => p.here && p.from !== null)
    .map((p) => {
      const from = Math.min(p.from, doc.length);
      return {
        from,
        to: Math.max(from, Math.min(p.to, doc.length)),
        severity: p.severity,
        source: p.code,
        message: p.message + (p.label ? ` (${p.label})` : "") + (p.help ? `\nhelp: ${p.help}` : ""),
      };
    });
}

// ---- the request ------------------------------------------------------------------

function scheduleMap() {
  clearTimeout(state.timer);
  state.timer = setTimeout(mapOrder, MAP_DELAY_MS);
}

async function mapOrder() {
  const seq = ++state.mapSeq;
  $("result").setAttribute("aria-busy", "true");
  let out;
  try {
    out = await api("/api/map", { path: state.file, text: text(state.mapping), order: text(state.order) });
  } catch (e) {
    out = { outcome: "failed", message: e.message };
  }
  if (seq !== state.mapSeq) return;
  showOutcome(out);
  $("result").removeAttribute("aria-busy");
  // The field explained before, explained again for the new request.
  if (out.outcome === "mapped" && state.field && out.fields.includes(state.field)) {
    explain(state.field);
  } else {
    clearExplain();
  }
}

function showOutcome(out) {
  const result = $("result");
  const outcome = $("outcome");
  outcome.className = out.outcome;
  if (out.outcome === "mapped") {
    outcome.textContent = out.order_id ? `mapped: order ${out.order_id}` : "mapped";
    const pre = el("pre", { id: "request" });
    const lines = out.request.split("\n");
    lines.forEach((line, i) => {
      const field = out.fields[i];
      const span = el("span", field ? { class: "line field", "data-field": field, title: `explain ${field}` } : { class: "line" }, line);
      if (field) span.addEventListener("click", () => explain(field));
      pre.append(span, "\n");
    });
    result.replaceChildren(pre);
  } else if (out.outcome === "rejected") {
    outcome.textContent = "rejected";
    result.replaceChildren(
      el(
        "div",
        { id: "rejection" },
        el("p", { class: "code" }, out.code),
        el("p", { class: "message" }, out.message),
        el("h4", {}, "What rejected it"),
        el("pre", { class: "trace" }, out.explain),
      ),
    );
  } else if (out.outcome === "mapping_errors") {
    outcome.textContent = "the mapping has errors";
    result.replaceChildren(
      el("p", { id: "not-mapped" }, "The mapping does not compile; its problems are listed under the editor."),
    );
  } else {
    outcome.textContent = out.outcome === "bad_order" ? "the order is not valid" : "failed";
    result.replaceChildren(el("p", { id: "not-mapped" }, out.message));
  }
}

// ---- explain ----------------------------------------------------------------------

function clearExplain() {
  state.field = null;
  $("explain-field").textContent = "";
  $("explain").textContent = "Click a field of the request to see where its value came from.";
}

async function explain(field) {
  const seq = ++state.explainSeq;
  state.field = field;
  for (const s of document.querySelectorAll("#request .selected")) s.classList.remove("selected");
  for (const s of document.querySelectorAll("#request .field")) {
    if (s.dataset.field === field) s.classList.add("selected");
  }
  $("explain-field").textContent = field;
  let out;
  try {
    out = await api("/api/explain", {
      path: state.file,
      text: text(state.mapping),
      order: text(state.order),
      field,
    });
  } catch (e) {
    out = { text: `explain: ${e.message}` };
  }
  if (seq !== state.explainSeq) return;
  $("explain").textContent = out.text !== undefined ? out.text : out.message || out.outcome;
}

// ---- files, examples, saving ------------------------------------------------------

function showDirty() {
  const dirty = text(state.mapping) !== state.saved;
  $("file-state").textContent = dirty ? "edited, not saved" : "as on disk";
  $("save").disabled = !dirty;
}

async function openFile(path) {
  const { text: t } = await api(`/api/file?path=${encodeURIComponent(path)}`);
  state.file = path;
  state.saved = t;
  setText(state.mapping, t);
  showDirty();
}

async function openExample(name) {
  const { text: t } = await api(`/api/example?name=${encodeURIComponent(name)}`);
  setText(state.order, t);
}

async function save() {
  const t = text(state.mapping);
  try {
    await api("/api/save", { path: state.file, text: t });
    state.saved = t;
    showDirty();
    status(`saved ${state.file}`, "good");
  } catch (e) {
    status(`not saved: ${e.message}`, "bad");
  }
}

function options(select, names, chosen) {
  select.replaceChildren(...names.map((n) => el("option", { value: n }, n)));
  if (chosen) select.value = chosen;
}

async function main() {
  const start = await api("/api/start");
  options($("file"), start.files, start.file);
  options($("example"), start.examples, start.example);
  const theme = EditorView.theme({ "&": { height: "100%" }, ".cm-scroller": { overflow: "auto" } });
  state.mapping = new EditorView({
    parent: $("mapping-editor"),
    state: EditorState.create({
      doc: "",
      extensions: [
        basicSetup,
        theme,
        mapLanguage(start.keywords, start.units),
        lintGutter(),
        linter(checkMapping, { delay: CHECK_DELAY_MS }),
        EditorView.updateListener.of((u) => {
          if (u.docChanged) {
            showDirty();
            scheduleMap();
          }
        }),
      ],
    }),
  });
  state.order = new EditorView({
    parent: $("order-editor"),
    state: EditorState.create({
      doc: "",
      extensions: [
        basicSetup,
        theme,
        json(),
        EditorView.updateListener.of((u) => {
          if (u.docChanged) scheduleMap();
        }),
      ],
    }),
  });
  $("file").addEventListener("change", (e) => openFile(e.target.value).catch((x) => status(x.message, "bad")));
  $("example").addEventListener("change", (e) => openExample(e.target.value).catch((x) => status(x.message, "bad")));
  $("save").addEventListener("click", save);
  if (start.file) await openFile(start.file);
  if (start.example) await openExample(start.example);
  status("");
}

main().catch((e) => status(`could not start: ${e.message}`, "bad"));
