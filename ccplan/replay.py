"""A replay of one simulated hour, built from call logs: calls as dots that queue, go to agents and abandon.

:func:`replay_data` cuts each routing rule's call log (same callers) to the calls present in a window;
:func:`replay_html` renders them side by side as a small self-contained HTML page (canvas and a few lines of
JavaScript: play, pause, speed and a time slider) that the app embeds. No second simulator: every position is
read off the log's arrival, answer, end and abandon times.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"]  # matplotlib's C0..C5, as the charts


def replay_data(call_log: pd.DataFrame, start_s: float, end_s: float, replication: int = 0) -> dict:
    """Calls of one replication present in [start_s, end_s): arrival, answer, end and abandon times (s, None when
    it did not happen), segment index (in the log's category order) and agent slot (0.. in order of first use)."""
    log = call_log[call_log["replication"] == replication] if "replication" in call_log else call_log
    segs = list(log["segment"].cat.categories) if hasattr(log["segment"], "cat") else list(dict.fromkeys(log["segment"]))
    arrival = log["arrival_s"].to_numpy(float)
    answer = log["answer_s"].to_numpy(float)
    finish = np.where(np.isnan(log["end_s"].to_numpy(float)), np.inf, log["end_s"].to_numpy(float))
    abandon = log["abandon_s"].to_numpy(float)
    gone = np.where(~np.isnan(abandon), abandon, np.where(~np.isnan(answer), finish, np.inf))
    keep = (arrival < end_s) & (gone >= start_s)
    sub = log[keep]
    agents = sub["agent"].to_numpy() if "agent" in sub else np.full(len(sub), -1)
    groups = sub["group"].astype(str).to_numpy() if "group" in sub else np.full(len(sub), "")
    slot: dict[tuple[str, int], int] = {}
    order = np.argsort(np.nan_to_num(sub["answer_s"].to_numpy(float), nan=np.inf), kind="stable")
    for i in order:
        if not np.isnan(sub["answer_s"].iloc[i]):
            slot.setdefault((groups[i], int(agents[i])), len(slot))
    seg_index = {s: k for k, s in enumerate(segs)}

    def num(x: float) -> float | None:
        return None if not np.isfinite(x) else round(float(x), 2)

    calls = []
    for i in range(len(sub)):
        r = sub.iloc[i]
        ans = num(r["answer_s"])
        calls.append([num(r["arrival_s"]), ans, num(r["end_s"]) if ans is not None else None, num(r["abandon_s"]),
                      seg_index[r["segment"]], slot.get((groups[i], int(agents[i])), -1) if ans is not None else -1])
    return {"segments": [str(s) for s in segs], "agents": len(slot), "calls": calls}


def replay_html(panels: dict[str, dict], start_s: float, end_s: float, open_minutes: int = 0,
                height_px: int = 430) -> str:
    """A page that replays ``panels`` (title -> :func:`replay_data`) side by side over [start_s, end_s)."""
    payload = json.dumps({"panels": [{"title": t, **d} for t, d in panels.items()], "start": start_s, "end": end_s,
                          "open": open_minutes * 60, "palette": PALETTE})
    # JSON is a JavaScript literal; "</" is escaped so that no name can close the <script> element
    safe = payload.replace("</", "<\\/").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return _TEMPLATE.replace("__HEIGHT__", str(int(height_px))).replace("__DATA__", safe)


_TEMPLATE = """<!doctype html>
<html><head><meta charset="utf-8"><style>
body { margin: 0; font-family: "Source Sans Pro", sans-serif; color: #262730; }
#bar { display: flex; gap: 12px; align-items: center; padding: 4px 2px 8px; font-size: 16px; }
#bar button { font-size: 16px; padding: 4px 14px; border-radius: 6px; border: 1px solid #bbb; background: #fff;
              cursor: pointer; }
#bar input[type=range] { flex: 1; }
#clock { font-variant-numeric: tabular-nums; font-weight: 600; min-width: 5.5em; }
canvas { width: 100%; display: block; }
</style></head><body>
<div id="bar">
  <button id="play" type="button">&#9654; Play</button>
  <label>speed <select id="speed"><option value="10">10&times;</option><option value="30">30&times;</option>
    <option value="60" selected>60&times;</option><option value="180">180&times;</option></select></label>
  <input id="time" type="range" min="0" max="1000" value="0" step="1" aria-label="time">
  <span id="clock"></span>
</div>
<canvas id="cv" height="__HEIGHT__"></canvas>
<script>
const D = __DATA__;
const cv = document.getElementById("cv"), ctx = cv.getContext("2d");
const slider = document.getElementById("time"), clock = document.getElementById("clock");
const playBtn = document.getElementById("play"), speedSel = document.getElementById("speed");
let t = D.start, playing = false, last = null;
const FLY = 6;  // seconds a dot takes to move from its queue to its agent
const LEAVE = 45;  // seconds a caller who hung up stays in sight, falling away from the queue

function fmt(s) {
  const m = Math.floor((D.open + s) / 60), sec = Math.floor((D.open + s) % 60);
  return String(Math.floor(m / 60) % 24).padStart(2, "0") + ":" + String(m % 60).padStart(2, "0") + ":" +
         String(sec).padStart(2, "0");
}
function resize() { cv.width = cv.clientWidth * (window.devicePixelRatio || 1); }
function dot(x, y, r, color) { ctx.beginPath(); ctx.arc(x, y, r, 0, 2 * Math.PI); ctx.fillStyle = color; ctx.fill(); }

function drawPanel(p, x0, w, h, s) {
  const pal = D.palette, k = p.segments.length, scale = cv.width / cv.clientWidth;
  ctx.save(); ctx.translate(x0, 0); ctx.scale(scale, scale); w /= scale; h /= scale;
  ctx.fillStyle = "#262730"; ctx.font = "600 17px sans-serif"; ctx.fillText(p.title, 8, 20);
  const qW = w * 0.42, r = 4, step = 2 * r + 2, perRow = Math.max(1, Math.floor((qW - 10) / (k * step)));
  const cols = 10, cell = Math.min((w - qW - 20) / cols, 22), rows = Math.ceil(Math.max(p.agents, 1) / cols);
  const ax0 = qW + 10, ay0 = 44;
  // queues: one column block per segment, heads at the top
  const waiting = p.segments.map(() => []);
  let answered = 0, abandoned = 0;
  const busy = new Map(), flying = [], leaving = [];
  for (const c of p.calls) {
    const [arr, ans, end, ab, seg, slot] = c;
    if (arr > s) continue;
    if (ab !== null && ab <= s) { abandoned++; if (s - ab < LEAVE) leaving.push([seg, s - ab]); continue; }
    if (ans !== null && ans <= s) {
      answered++;
      if (end === null || end > s) { busy.set(slot, seg); if (s - ans < FLY) flying.push([seg, slot, (s - ans) / FLY]); }
      continue;
    }
    waiting[seg].push(arr);
  }
  ctx.font = "14px sans-serif";
  for (let q = 0; q < k; q++) {
    const bx = 8 + q * (qW / k);
    ctx.fillStyle = pal[q % pal.length]; ctx.fillText(p.segments[q] + " " + waiting[q].length, bx, 40);
    waiting[q].sort((a, b) => a - b);
    const per = Math.max(1, Math.floor((qW / k - 8) / step));
    waiting[q].forEach((arr, i) => dot(bx + r + (i % per) * step, 52 + Math.floor(i / per) * step, r, pal[q % pal.length]));
  }
  // agents: a grid of cells, coloured by the segment of the call in hand
  for (let a = 0; a < p.agents; a++) {
    const cx = ax0 + (a % cols) * cell, cy = ay0 + Math.floor(a / cols) * cell;
    ctx.fillStyle = busy.has(a) ? pal[busy.get(a) % pal.length] : "#e6e6e6";
    ctx.fillRect(cx, cy, cell - 3, cell - 3);
  }
  ctx.fillStyle = "#555"; ctx.fillText("agents (grey: free)", ax0, ay0 - 6);
  for (const [seg, slot, f] of flying) {  // a dot on its way from the head of its queue to its agent
    const qx = 8 + seg * (qW / k) + r, qy = 52;
    const cx = ax0 + (slot % cols) * cell + cell / 2, cy = ay0 + Math.floor(slot / cols) * cell + cell / 2;
    dot(qx + (cx - qx) * f, qy + (cy - qy) * f, r + 1, pal[seg % pal.length]);
  }
  const by = ay0 + rows * cell + 24;
  const qRows = Math.max(1, ...waiting.map((wq) => Math.ceil(wq.length / Math.max(1, Math.floor((qW / k - 8) / step)))));
  leaving.forEach(([seg, age], j) => {  // callers who hung up fall away below their queue, crossed out
    const x = 8 + seg * (qW / k) + 6 + (j * 11) % Math.max(20, qW / k - 16), y = 64 + qRows * step + age * 2.5;
    ctx.strokeStyle = pal[seg % pal.length]; ctx.lineWidth = 2; ctx.beginPath();
    ctx.globalAlpha = 1 - age / LEAVE;
    ctx.moveTo(x - 4, y - 4); ctx.lineTo(x + 4, y + 4); ctx.moveTo(x + 4, y - 4); ctx.lineTo(x - 4, y + 4); ctx.stroke();
    ctx.globalAlpha = 1;
  });
  ctx.fillStyle = "#262730"; ctx.font = "15px sans-serif";
  ctx.fillText("answered " + answered + "   abandoned " + abandoned, ax0, Math.min(by, h - 8));
  ctx.restore();
}

function draw() {
  resize();
  ctx.clearRect(0, 0, cv.width, cv.height);
  const n = D.panels.length, w = cv.width / n;
  D.panels.forEach((p, i) => {
    drawPanel(p, i * w, w, cv.height, t);
    if (i) { ctx.fillStyle = "#ddd"; ctx.fillRect(i * w - 1, 0, 1, cv.height); }
  });
  clock.textContent = fmt(t);
  slider.value = Math.round(1000 * (t - D.start) / (D.end - D.start));
}
function tick(now) {
  if (!playing) { last = null; return; }
  if (last !== null) t = Math.min(D.end, t + (now - last) / 1000 * Number(speedSel.value));
  last = now; draw();
  if (t >= D.end) { setPlaying(false); return; }
  requestAnimationFrame(tick);
}
function setPlaying(on) {
  playing = on; playBtn.innerHTML = on ? "&#10073;&#10073; Pause" : "&#9654; Play";
  playBtn.setAttribute("aria-pressed", on ? "true" : "false");
  if (on) { if (t >= D.end) t = D.start; requestAnimationFrame(tick); }
}
playBtn.addEventListener("click", () => setPlaying(!playing));
slider.addEventListener("input", () => { t = D.start + (D.end - D.start) * slider.value / 1000; draw(); });
window.addEventListener("resize", draw);
draw();
</script></body></html>
"""
