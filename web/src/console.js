// The operator's console (src/console/): its one script. The pages work without it; on
// the first page it refreshes health, the figures and the counts from /api/overview
// every few seconds, without reloading the page, and says when the list of orders that
// wait for a person changed (a reload shows it, with its buttons).
const EVERY_MS = 5000;

function put(id, value) {
  const e = document.getElementById(id);
  if (e) e.textContent = String(value);
}

function outcomes(m) {
  const keys = Object.keys(m);
  return keys.length ? keys.map((k) => `${k} ${m[k]}`).join(" · ") : "none yet";
}

// Each hour's bar as tall as its orders against the busiest hour's.
function drawBars(box) {
  const bars = [...box.querySelectorAll(".bar")];
  const top = Math.max(1, ...bars.map((b) => Number(b.dataset.orders) || 0));
  for (const b of bars) {
    b.style.height = `${Math.round((100 * (Number(b.dataset.orders) || 0)) / top)}%`;
  }
}

function shownWaiting() {
  return [...document.querySelectorAll("#waiting article.wait")].map((a) => a.dataset.order).join("\n");
}

async function refresh() {
  let o;
  try {
    const r = await fetch("/api/overview", { headers: { Accept: "application/json" } });
    if (r.status === 401) {
      // The session ended: the page shows the login form.
      location.reload();
      return;
    }
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    o = await r.json();
  } catch (e) {
    document.body.dataset.stale = "true";
    put("refreshed", `not refreshed: ${e.message}`);
    return;
  }
  document.body.dataset.stale = "false";
  const f = o.figures;
  const h = f.health;
  const status = document.getElementById("health-status");
  if (status) {
    status.textContent = h.status;
    status.className = h.status;
  }
  put("health-reason", h.reason ?? "—");
  put("last-round", h.last_round_ok_at ?? "not known yet");
  put("token-expiry", h.token_expires_at ?? "not known yet");
  put("rounds", f.rounds);
  put("red-calls", outcomes(f.red_calls));
  put("gateway-requests", outcomes(f.gateway_requests));
  put("orders-hour", f.orders_this_hour);
  put("orders-day", f.orders_last_day);
  const box = document.getElementById("hours");
  if (box) {
    box.replaceChildren(
      ...f.orders_per_hour.map((x) => {
        const b = document.createElement("span");
        b.className = "bar";
        b.dataset.orders = String(x.orders);
        b.title = `${x.hour}: ${x.orders}`;
        return b;
      }),
    );
    drawBars(box);
  }
  for (const s of o.stages) {
    const td = document.querySelector(`#stages td.count[data-stage="${s.stage}"]`);
    if (td) td.textContent = String(s.count);
  }
  put("total", o.total);
  put("waiting-count", o.waiting_total);
  const now = o.waiting.map((w) => w.order_id).join("\n");
  const changed = document.getElementById("waiting-changed");
  if (changed) changed.hidden = now === shownWaiting();
  put("refreshed", `refreshed ${new Date().toLocaleTimeString()}`);
}

const figures = document.getElementById("figures");
if (figures) {
  const box = document.getElementById("hours");
  if (box) drawBars(box);
  setInterval(refresh, EVERY_MS);
}
