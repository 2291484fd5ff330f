// splitbrain report: draws the timeline and charts from the JSON in #data. Every text from
// the history is set with textContent or as an attribute value, never parsed as HTML.
(function () {
  'use strict';
  var D = JSON.parse(document.getElementById('data').textContent);
  var NS = 'http://www.w3.org/2000/svg';
  var OUT = ['ok', 'fail', 'info'];
  var O = D.ops, N = O.i.length, END = D.end;
  var PALETTE = ['#3b5bdb', '#2f9e63', '#d9534f', '#e6a23c', '#7048e8', '#0c8599', '#c2255c', '#5c940d'];

  function el(name, attrs, parent) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }
  function text(parent, x, y, s, cls, anchor) {
    var t = el('text', { x: x, y: y }, parent);
    if (cls) t.setAttribute('class', cls);
    if (anchor) t.setAttribute('text-anchor', anchor);
    t.textContent = s;
    return t;
  }
  function secs(us, step) {
    var d = step >= 1e6 ? 0 : step >= 1e5 ? 1 : step >= 1e4 ? 2 : step >= 1e3 ? 3 : 6;
    return (us / 1e6).toFixed(d) + ' s';
  }
  function niceStep(span, n) {
    var raw = span / n, p = Math.pow(10, Math.floor(Math.log10(Math.max(raw, 1e-9))));
    var m = raw / p;
    return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
  }
  function ms(us) { return us < 10000 ? (us / 1000).toFixed(2) + ' ms' : (us / 1000).toFixed(0) + ' ms'; }
  function lowerBound(arr, x) {
    var lo = 0, hi = arr.length;
    while (lo < hi) { var mid = (lo + hi) >> 1; if (arr[mid] < x) lo = mid + 1; else hi = mid; }
    return lo;
  }
  function opEnd(k) { return O.d[k] < 0 ? END : O.t[k] + O.d[k]; }

  // ---- tooltip -------------------------------------------------------------------------
  var tip = document.getElementById('tip');
  function showTip(ev, rows) {
    tip.textContent = '';
    rows.forEach(function (r) {
      var line = document.createElement('div');
      var b = document.createElement('b');
      b.textContent = r[0];
      line.appendChild(b);
      line.appendChild(document.createTextNode(String(r[1])));
      tip.appendChild(line);
    });
    tip.hidden = false;
    var x = Math.min(ev.clientX + 14, window.innerWidth - tip.offsetWidth - 8);
    var y = ev.clientY + 16;
    if (y + tip.offsetHeight > window.innerHeight) y = ev.clientY - tip.offsetHeight - 10;
    tip.style.left = x + 'px';
    tip.style.top = y + 'px';
  }
  function hideTip() { tip.hidden = true; }
  function opRows(k) {
    var rows = [
      ['index', O.i[k]], ['process', 'p' + O.p[k]], ['f', D.fs[O.f[k]]],
      ['value', O.v[k]], ['outcome', O.d[k] < 0 ? 'never completed' : OUT[O.o[k]]],
      ['invoked', secs(O.t[k], 1)], ['latency', O.d[k] < 0 ? '—' : ms(O.d[k])]
    ];
    if (O.n[k] >= 0) rows.splice(3, 0, ['node', D.nodes[O.n[k]]]);
    if (O.e[k] >= 0) rows.push(['error', D.errors[O.e[k]]]);
    var inAnomalies = anomaliesOf[k];
    if (inAnomalies) rows.push(['witness of', inAnomalies.map(function (a) { return '#' + a; }).join(' ')]);
    return rows;
  }

  // ---- timeline ------------------------------------------------------------------------
  var anomaliesOf = {};
  D.anomalies.forEach(function (ps, a) {
    ps.forEach(function (k) { (anomaliesOf[k] = anomaliesOf[k] || []).push(a); });
  });
  var witnessList = Object.keys(anomaliesOf).map(Number).sort(function (a, b) { return a - b; });
  var maxDur = 0;
  for (var k = 0; k < N; k++) maxDur = Math.max(maxDur, opEnd(k) - O.t[k]);

  var svg = document.getElementById('timeline-svg');
  var wrap = document.getElementById('timeline-wrap');
  var L = Math.max(D.lanes.length, 1);
  var LANE = L > 60 ? Math.max(3, Math.floor(900 / L)) : Math.max(14, Math.min(28, Math.floor(360 / L)));
  var LEFT = D.lanes.some(function (l) { return l.node !== null; }) ? 130 : 78, TOP = 34, BOTTOM = 8;
  var view = { a: 0, b: END };
  var focus = null;
  var DETAIL_MAX = 3000;

  function width() { return Math.max(wrap.clientWidth, 400); }
  function draw() {
    var W = width(), H = TOP + L * LANE + BOTTOM, PW = W - LEFT;
    svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
    svg.setAttribute('height', H);
    svg.textContent = '';
    var span = Math.max(view.b - view.a, 1);
    var sx = function (t) { return LEFT + (t - view.a) / span * PW; };
    var clip = function (x) { return Math.max(LEFT, Math.min(W, x)); };
    for (var l = 0; l < L; l++) {
      el('rect', { x: LEFT, y: TOP + l * LANE, width: PW, height: LANE, 'class': 'lane-bg' + (l % 2 ? ' alt' : '') }, svg);
      if (LANE >= 10 && D.lanes[l]) text(svg, LEFT - 6, TOP + l * LANE + LANE * 0.72, D.lanes[l].label, null, 'end');
      if (l > 0 && D.lanes[l].node !== D.lanes[l - 1].node)
        el('line', { x1: 0, x2: W, y1: TOP + l * LANE, y2: TOP + l * LANE, 'class': 'node-sep' }, svg);
    }
    var step = niceStep(span, Math.max(2, Math.floor(PW / 110)));
    var axis = el('g', { 'class': 'axis' }, svg);
    for (var t = Math.ceil(view.a / step) * step; t <= view.b; t += step) {
      var x = sx(t);
      el('line', { x1: x, x2: x, y1: TOP - 4, y2: H - BOTTOM, 'class': 'grid' }, axis);
      if (x > LEFT + 10 && x < W - 24) text(axis, x, 12, secs(t, step), null, 'middle');
    }
    D.faults.forEach(function (f) {
      var x0 = clip(sx(f.start)), x1 = clip(sx(f.end === null ? END : f.end));
      if (x1 <= LEFT || x0 >= W) return;
      var r = el('rect', { x: x0, y: 16, width: Math.max(x1 - x0, 1), height: H - 16 - BOTTOM, 'class': 'fault-rect' }, svg);
      r.dataset.fault = D.faults.indexOf(f);
      if (x1 - x0 > 40) text(svg, x0 + 3, 27, f.name || 'fault', 'fault-label');
    });
    var lo = lowerBound(O.t, view.a - maxDur), hi = lowerBound(O.t, view.b + 1);
    var detail = hi - lo <= DETAIL_MAX;
    if (D.summarised || !detail) drawAggregate(sx, PW, lo, hi, detail);
    var g = el('g', {}, svg);
    var drawOp = function (k, extra) {
      var a = O.t[k], b = opEnd(k);
      if (b < view.a || a > view.b) return;
      var x0 = clip(sx(a)), x1 = clip(sx(b));
      var pad = LANE > 6 ? 2 : 0, w = Math.max(x1 - x0, 1.5), y = TOP + O.l[k] * LANE + pad;
      // A bar too narrow to show an outline gets a dark tick above it instead.
      var narrow = w < 6 && extra === ' witness';
      var r = el('rect', { x: x0, y: y, width: w, height: LANE - 2 * pad,
        'class': 'op ' + OUT[O.o[k]] + (narrow ? '' : extra) }, g);
      r.dataset.k = k;
      if (narrow) el('rect', { x: x0, y: y - pad, width: w, height: Math.max(2, pad + 1), 'class': 'wmark' }, g).dataset.k = k;
    };
    if (detail) for (var k = lo; k < hi; k++) drawOp(k, anomaliesOf[k] ? ' witness' : '');
    else {
      var shown = 0;
      for (var i = 0; i < witnessList.length && shown < DETAIL_MAX; i++) {
        var w = witnessList[i];
        if (opEnd(w) >= view.a && O.t[w] <= view.b) { drawOp(w, ' witness'); shown++; }
      }
    }
    if (focus) focus.forEach(function (k) { drawOp(k, ' focus'); });
    document.getElementById('range').textContent = secs(view.a, step) + ' – ' + secs(view.b, step) +
      '  ·  ' + (D.summarised ? 'summarised: ' + D.total_ops.toLocaleString() + ' ops, ' + N.toLocaleString() +
      ' carried in full (every witness and its neighbours)' : detail ? (hi - lo) + ' ops drawn' : 'zoom in to see single ops');
  }

  // Counts per lane and column, drawn as one cell each: coloured by its worst common
  // outcome, darker where more ops ran.
  function drawAggregate(sx, PW, lo, hi, detail) {
    var C = Math.max(20, Math.floor(PW / 4)), span = Math.max(view.b - view.a, 1);
    var cells = new Float64Array(L * C * 3);
    var col = function (t) { return Math.floor((t - view.a) / span * C); };
    if (D.summarised) {
      var A = D.agg;
      var b0 = Math.max(0, Math.floor(view.a / A.bucket)), b1 = Math.min(A.buckets - 1, Math.floor(view.b / A.bucket));
      for (var l = 0; l < L; l++) for (var b = b0; b <= b1; b++) {
        var c = col((b + 0.5) * A.bucket);
        if (c < 0 || c >= C) continue;
        for (var o = 0; o < 3; o++) cells[(l * C + c) * 3 + o] += A.counts[(l * A.buckets + b) * 3 + o];
      }
    } else {
      for (var k = lo; k < hi; k++) {
        var c2 = col(O.t[k]);
        if (c2 >= 0 && c2 < C) cells[(O.l[k] * C + c2) * 3 + O.o[k]] += 1;
      }
    }
    var max = 1;
    for (var i = 0; i < L * C; i++) max = Math.max(max, cells[i * 3] + cells[i * 3 + 1] + cells[i * 3 + 2]);
    var g = el('g', {}, svg), cw = PW / C;
    for (var l2 = 0; l2 < L; l2++) for (var c3 = 0; c3 < C; c3++) {
      var j = (l2 * C + c3) * 3, ok = cells[j], fail = cells[j + 1], info = cells[j + 2], n = ok + fail + info;
      if (!n) continue;
      var cls = (fail + info) / n > 0.2 ? (fail >= info ? 'fail' : 'info') : 'ok';
      var r = el('rect', { x: LEFT + c3 * cw, y: TOP + l2 * LANE + (LANE > 6 ? 2 : 0), width: cw + 0.3,
        height: LANE > 6 ? LANE - 4 : LANE, 'class': 'op ' + cls,
        'fill-opacity': ((D.summarised && detail ? 0.12 : 0.3) + 0.6 * n / max).toFixed(2) }, g);
      r.dataset.cell = [ok, fail, info, l2].join(',');
    }
  }

  function zoom(f, at) {
    var span = view.b - view.a, c = at === undefined ? view.a + span / 2 : at;
    var ns = Math.max(Math.min(span * f, END * 1.05), 20);
    var a = c - (c - view.a) * (ns / span);
    view = { a: Math.max(-END * 0.02, a), b: Math.max(-END * 0.02, a) + ns };
    draw();
  }
  function timeAt(clientX) {
    var r = svg.getBoundingClientRect();
    return view.a + (clientX - r.left - LEFT) / (r.width - LEFT) * (view.b - view.a);
  }
  wrap.addEventListener('wheel', function (ev) {
    ev.preventDefault();
    zoom(ev.deltaY > 0 ? 1.25 : 0.8, timeAt(ev.clientX));
  }, { passive: false });
  var drag = null;
  wrap.addEventListener('mousedown', function (ev) {
    drag = { x: ev.clientX, a: view.a, b: view.b };
    wrap.classList.add('dragging');
  });
  window.addEventListener('mouseup', function () { drag = null; wrap.classList.remove('dragging'); });
  window.addEventListener('mousemove', function (ev) {
    if (!drag) return;
    var r = svg.getBoundingClientRect();
    var dt = (ev.clientX - drag.x) / (r.width - LEFT) * (drag.b - drag.a);
    view = { a: drag.a - dt, b: drag.b - dt };
    draw();
  });
  svg.addEventListener('mousemove', function (ev) {
    var t = ev.target;
    if (drag) return hideTip();
    if (t.dataset && t.dataset.k !== undefined) return showTip(ev, opRows(+t.dataset.k));
    if (t.dataset && t.dataset.cell !== undefined) {
      var c = t.dataset.cell.split(',');
      return showTip(ev, [['lane', D.lanes[+c[3]].label], ['ok', c[0]], ['fail', c[1]], ['info', c[2]],
        ['', 'zoom in to see single ops']]);
    }
    if (t.dataset && t.dataset.fault !== undefined) return showTip(ev, [['fault', D.faults[+t.dataset.fault].label]]);
    hideTip();
  });
  svg.addEventListener('mouseleave', hideTip);
  document.querySelectorAll('[data-zoom]').forEach(function (b) {
    b.addEventListener('click', function () {
      var z = b.dataset.zoom;
      if (z === 'reset') { view = { a: 0, b: END }; focus = null; draw(); } else zoom(z === 'in' ? 0.5 : 2);
    });
  });
  document.querySelectorAll('a.focus').forEach(function (a) {
    a.addEventListener('click', function () {
      var ps = D.anomalies[+a.dataset.anomaly] || [];
      if (!ps.length) return;
      var t0 = Infinity, t1 = -Infinity;
      ps.forEach(function (k) { t0 = Math.min(t0, O.t[k]); t1 = Math.max(t1, opEnd(k)); });
      var pad = Math.max((t1 - t0) * 0.25, 2000);
      view = { a: t0 - pad, b: t1 + pad };
      focus = ps;
      document.getElementById('timeline-note').textContent = 'Focused on anomaly #' + a.dataset.anomaly +
        ': its witness ops are outlined. "whole run" resets.';
      draw();
    });
  });

  // ---- charts --------------------------------------------------------------------------
  function frame(id, H) {
    var s = document.getElementById(id), W = Math.max(s.clientWidth, 400);
    s.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
    s.textContent = '';
    return { s: s, W: W, H: H, L: 56, R: 12, T: 10, B: 22 };
  }
  function shadeFaults(f, sx) {
    D.faults.forEach(function (w) {
      var x0 = sx(w.start), x1 = sx(w.end === null ? END : w.end);
      var r = el('rect', { x: x0, y: f.T, width: Math.max(x1 - x0, 1), height: f.H - f.T - f.B, 'class': 'fault-rect' }, f.s);
      el('title', {}, r).textContent = w.label;
    });
  }
  function timeAxis(f, sx) {
    var step = niceStep(END, Math.max(2, Math.floor((f.W - f.L) / 110)));
    for (var t = 0; t <= END; t += step) {
      el('line', { x1: sx(t), x2: sx(t), y1: f.T, y2: f.H - f.B, 'class': 'grid' }, f.s);
      if (sx(t) < f.W - 24) text(f.s, sx(t), f.H - 6, secs(t, step), null, 'middle');
    }
  }
  function yTicks(f, sy, ticks, label) {
    ticks.forEach(function (v) {
      el('line', { x1: f.L, x2: f.W - f.R, y1: sy(v), y2: sy(v), 'class': 'grid' }, f.s);
      text(f.s, f.L - 5, sy(v) + 4, label(v), null, 'end');
    });
  }
  function throughput() {
    var f = frame('chart-throughput', 220), C = D.charts, n = C.ok.length, per = C.bucket / 1e6;
    var sx = function (t) { return f.L + t / END * (f.W - f.L - f.R); };
    var max = 1;
    for (var i = 0; i < n; i++) max = Math.max(max, (C.ok[i] + C.fail[i] + C.info[i]) / per);
    var sy = function (v) { return f.H - f.B - v / max * (f.H - f.T - f.B); };
    var st = niceStep(max, 4), ticks = [];
    for (var v = 0; v <= max; v += st) ticks.push(v);
    yTicks(f, sy, ticks, function (v) { return String(Math.round(v)); });
    timeAxis(f, sx);
    shadeFaults(f, sx);
    var bw = Math.max(sx(C.bucket) - sx(0), 1);
    for (var b = 0; b < n; b++) {
      var base = 0;
      [C.ok[b], C.fail[b], C.info[b]].forEach(function (c, o) {
        if (!c) return;
        var v = c / per;
        el('rect', { x: sx(b * C.bucket), y: sy(base + v), width: bw, height: sy(base) - sy(base + v), 'class': 'op ' + OUT[o] }, f.s);
        base += v;
      });
    }
  }
  function latency() {
    var f = frame('chart-latency', 240), C = D.charts, P = C.points;
    var sx = function (t) { return f.L + t / END * (f.W - f.L - f.R); };
    var lo = Infinity, hi = 1;
    P.lat.forEach(function (l) { lo = Math.min(lo, Math.max(l, 1)); hi = Math.max(hi, l); });
    C.p99.forEach(function (l) { if (l !== null) hi = Math.max(hi, l); });
    if (lo === Infinity) lo = 1;
    var l0 = Math.floor(Math.log10(lo)), l1 = Math.max(Math.ceil(Math.log10(hi)), l0 + 1);
    var sy = function (v) { return f.H - f.B - (Math.log10(Math.max(v, 1)) - l0) / (l1 - l0) * (f.H - f.T - f.B); };
    var ticks = [];
    for (var e = l0; e <= l1; e++) ticks.push(Math.pow(10, e));
    yTicks(f, sy, ticks, function (v) { return v >= 1e6 ? v / 1e6 + ' s' : v >= 1e3 ? v / 1e3 + ' ms' : v + ' µs'; });
    timeAxis(f, sx);
    shadeFaults(f, sx);
    var g = el('g', {}, f.s);
    for (var i = 0; i < P.t.length; i++)
      el('circle', { cx: sx(P.t[i]).toFixed(1), cy: sy(P.lat[i]).toFixed(1), r: 1.6, 'class': 'pt ' + OUT[P.o[i]], 'fill-opacity': 0.55 }, g);
    [['p50', 'q50'], ['p95', 'q95'], ['p99', 'q99']].forEach(function (q, qi) {
      var d = '', pen = 'M';
      C[q[0]].forEach(function (v, b) {
        if (v === null) { pen = 'M'; return; }
        d += pen + sx((b + 0.5) * C.bucket).toFixed(1) + ',' + sy(v).toFixed(1) + ' ';
        pen = 'L';
      });
      if (d) el('path', { d: d, 'class': q[1] }, f.s);
      text(f.s, f.W - f.R - 120 + qi * 40, f.T + 10, q[0], q[1].replace('q', 'l'));
    });
  }
  function rounds() {
    var R = D.rounds;
    if (!R) return;
    document.getElementById('chart-rounds-fig').hidden = false;
    var f = frame('chart-rounds', 220), n = R.rounds.length;
    var sx = function (i) { return f.L + (n > 1 ? i / (n - 1) : 0.5) * (f.W - f.L - f.R - 120); };
    var max = 1;
    R.counts.concat(R.diffs).forEach(function (s) { s.forEach(function (v) { if (v !== null) max = Math.max(max, v); }); });
    var sy = function (v) { return f.H - f.B - v / max * (f.H - f.T - f.B); };
    var st = Math.max(1, niceStep(max, 4)), ticks = [];
    for (var v = 0; v <= max; v += st) ticks.push(v);
    yTicks(f, sy, ticks, function (v) { return String(Math.round(v)); });
    var every = Math.max(1, Math.ceil(n / 12));
    R.rounds.forEach(function (r, i) { if (i % every === 0) text(f.s, sx(i), f.H - 6, 'round ' + r, null, 'middle'); });
    R.views.forEach(function (name, vi) {
      var colour = PALETTE[vi % PALETTE.length];
      [[R.counts[vi], 'view-line'], [R.diffs[vi], 'view-diff']].forEach(function (s, si) {
        if (si === 1 && vi === 0) return;
        var d = '', pen = 'M';
        s[0].forEach(function (v, i) {
          if (v === null) { pen = 'M'; return; }
          d += pen + sx(i).toFixed(1) + ',' + sy(v).toFixed(1) + ' ';
          pen = 'L';
        });
        if (d) el('path', { d: d, 'class': s[1], stroke: colour }, f.s);
      });
      var t = text(f.s, f.W - f.R - 112, f.T + 12 + vi * 14, name);
      t.setAttribute('style', 'fill:' + colour);
    });
  }

  // ---- linearizability diagrams --------------------------------------------------------
  // After Porcupine's visualisation: a lane per process, each op a bar between the places of
  // its invocation and completion in the history (places, not time: every event gets an
  // equal slot), the linearized ops numbered in linearization order and joined at their
  // linearization points, the op that cannot take effect in red.
  function stateText(v) { return v === null || v === undefined ? 'nil' : JSON.stringify(v); }
  function clipText(s, px, fromLeft) {
    var n = Math.floor(px / 6.4);
    if (s.length <= n) return s;
    if (n < 2) return '';
    return fromLeft ? '…' + s.slice(s.length - n + 1) : s.slice(0, n - 1) + '…';
  }
  function drawLinear(s, d) {
    var ops = d.ops, B = d.blocked, K = d.anomaly;
    var slots = [];
    ops.forEach(function (o) { slots.push(o.invoke); if (o.complete !== null) slots.push(o.complete); });
    slots.sort(function (a, b) { return a - b; });
    slots = slots.filter(function (p, i) { return i === 0 || slots[i - 1] !== p; });
    var slotOf = {};
    slots.forEach(function (p, i) { slotOf[p] = i; });
    var procs = [];
    ops.forEach(function (o) { if (procs.indexOf(o.process) < 0) procs.push(o.process); });
    procs.sort(function (a, b) { return a - b; });
    var stateOf = {};
    d.linearization.forEach(function (st) { stateOf[st.order] = st.state; });
    var LEFT = 52, RIGHT = 16, TOP = 26, LANE = 50, BAR = 16, NOTE = 46;
    var avail = Math.max(s.parentNode.clientWidth, 400) - LEFT - RIGHT;
    var SLOT = Math.max(18, avail / (slots.length + 1));
    var W = LEFT + RIGHT + SLOT * (slots.length + 1), H = TOP + procs.length * LANE + NOTE;
    var END = slots.length + 0.5;
    var sx = function (slot) { return LEFT + SLOT * (slot + 0.5); };
    var laneY = function (p) { return TOP + procs.indexOf(p) * LANE; };
    var barY = function (p) { return laneY(p) + 18; };
    var mid = function (p) { return barY(p) + BAR / 2; };
    s.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
    s.setAttribute('width', W);
    s.setAttribute('height', H);
    s.textContent = '';
    var defs = el('defs', {}, s);
    var pat = el('pattern', { id: 'hatch-' + K, width: 6, height: 6, patternUnits: 'userSpaceOnUse',
      patternTransform: 'rotate(45)' }, defs);
    el('rect', { width: 6, height: 6, 'class': 'hatch-bg' }, pat);
    el('rect', { width: 2.5, height: 6, 'class': 'hatch-fg' }, pat);
    procs.forEach(function (p, i) {
      el('rect', { x: 0, y: laneY(p), width: W, height: LANE, 'class': 'lane-bg' + (i % 2 ? ' alt' : '') }, s);
      text(s, LEFT - 8, mid(p) + 4, 'p' + p, 'lane-label', 'end');
    });
    // History indexes along the top, as many as fit.
    var every = Math.max(1, Math.ceil((String(slots[slots.length - 1]).length * 6.5 + 8) / SLOT));
    slots.forEach(function (p, i) {
      el('line', { x1: sx(i), x2: sx(i), y1: TOP - 4, y2: TOP + procs.length * LANE, 'class': 'slot-grid' }, s);
      if (i % every === 0) text(s, sx(i), TOP - 9, String(p), 'slot-label', 'middle');
    });
    text(s, 4, TOP - 9, 'index', 'slot-label');
    // Where each linearized op takes effect: after the one before it and after its own
    // invocation, before its completion. Ops sharing a slot are spread across it.
    var lin = ops.filter(function (o) { return o.order !== null; });
    lin.sort(function (a, b) { return a.order - b.order; });
    var base = -1, runs = [];
    lin.forEach(function (o) {
      base = Math.max(base, slotOf[o.invoke]);
      if (!runs.length || runs[runs.length - 1].base !== base) runs.push({ base: base, ops: [] });
      runs[runs.length - 1].ops.push(o);
    });
    var pointOf = {};
    runs.forEach(function (r) {
      r.ops.forEach(function (o, i) { pointOf[o.invoke] = r.base + (i + 1) / (r.ops.length + 1); });
    });
    var bars = el('g', {}, s);
    var nextStart = {};
    ops.forEach(function (o) {
      var later = ops.filter(function (q) { return q.process === o.process && q.invoke > o.invoke; });
      nextStart[o.invoke] = later.length ? sx(slotOf[later[0].invoke]) : W;
    });
    ops.forEach(function (o) {
      var blocked = o.invoke === B.invoke;
      var role = blocked ? 'blocked' : o.order !== null ? 'lin' : 'pending';
      var x0 = sx(slotOf[o.invoke]), x1 = o.complete === null ? sx(END) : sx(slotOf[o.complete]);
      var y = barY(o.process);
      var says = ['p' + o.process + ' ' + o.op, 'invoked at index ' + o.invoke +
        (o.complete === null ? ', never completed' : ', ' + o.outcome + ' at index ' + o.complete)];
      if (o.outcome === 'info') says.push('its result is unknown: it may take effect until the end');
      if (o.order !== null) says.push('#' + o.order + ' in the linearization' +
        (o.order in stateOf ? ', state after it: ' + stateText(stateOf[o.order]) : ''));
      else if (blocked) says.push('cannot take effect after the ' + d['prefix-length'] + ' ops before it');
      else says.push('not linearized before the failure');
      var g = el('g', { 'class': 'lop ' + role }, bars);
      el('title', {}, g).textContent = says.join('\n');
      if (o.complete !== null)
        el('rect', { x: x0, y: y, width: Math.max(x1 - x0, blocked ? SLOT / 2 : 2), height: BAR, rx: 3, 'class': 'bar' }, g);
      if (o.outcome === 'info') {
        var h0 = o.complete === null ? x0 : x1;
        el('rect', { x: h0, y: y, width: Math.max(sx(END) - h0, 2), height: BAR, 'class': 'open',
          fill: 'url(#hatch-' + K + ')' }, g);
      }
      text(g, x0 + 1, y - 4, clipText(o.op, nextStart[o.invoke] - x0 - 4), 'lop-label');
    });
    // The linearization: a line through the points, a numbered mark and the state at each.
    var path = lin.map(function (o) {
      return sx(pointOf[o.invoke]).toFixed(1) + ',' + mid(o.process);
    });
    if (path.length > 1) el('polyline', { points: path.join(' '), 'class': 'lin-path' }, s);
    lin.forEach(function (o) {
      var x = sx(pointOf[o.invoke]), y = mid(o.process), label = String(o.order);
      var g = el('g', { 'class': 'lin-point' }, s);
      var w = label.length * 6.6 + 8;
      el('line', { x1: x, x2: x, y1: y - BAR / 2 - 2, y2: y + BAR / 2 + 2, 'class': 'lin-tick' }, g);
      el('rect', { x: x - w / 2, y: y - 7, width: w, height: 14, rx: 7, 'class': 'lin-pill' }, g);
      text(g, x, y + 4, label, 'lin-num', 'middle');
      // A state's end says most (an append adds there).
      if (o.order in stateOf)
        text(g, x, y + BAR / 2 + 13, '→' + clipText(stateText(stateOf[o.order]), SLOT * 1.6, true), 'lin-state', 'middle');
      el('title', {}, g).textContent = '#' + o.order + ' p' + o.process + ' ' + o.op +
        (o.order in stateOf ? ' → state ' + stateText(stateOf[o.order]) : '');
    });
    // The blocked op: where it would have to take effect, and why it cannot.
    var bo = ops.filter(function (o) { return o.invoke === B.invoke; })[0];
    if (bo) {
      var last = lin.length ? pointOf[lin[lin.length - 1].invoke] : -1;
      var a = Math.max(last, slotOf[bo.invoke]), b = bo.complete === null ? END : slotOf[bo.complete];
      var bx = sx(a + (b - a) / 2), by = mid(bo.process);
      var g2 = el('g', { 'class': 'blocked-mark' }, s);
      var cy = by + BAR / 2 + 12;
      el('line', { x1: bx, x2: bx, y1: by - BAR / 2 - 3, y2: H - NOTE + 16, 'class': 'blocked-line' }, g2);
      el('circle', { cx: bx, cy: cy, r: 7, 'class': 'blocked-dot' }, g2);
      text(g2, bx, cy + 4, '✗', 'blocked-x', 'middle');
      var states = (d.states || []).map(stateText);
      var could = states.length > 1 ? states.slice(0, -1).join(', ') + ' or ' + states[states.length - 1] : states.join('');
      var note = 'p' + bo.process + ' ' + bo.op + ' cannot take effect here: the state could only be ' + could;
      var nw = note.length * 6.8;
      text(g2, Math.max(4, Math.min(bx - nw / 2, W - nw - 4)), H - NOTE + 30, note, 'blocked-note');
      el('title', {}, g2).textContent = note;
      // Wide diagrams open scrolled to the failure.
      var wrap = s.parentNode;
      wrap.scrollLeft = Math.max(0, bx - wrap.clientWidth * 0.7);
    }
  }
  function linearDiagrams() {
    document.querySelectorAll('svg.linear-svg').forEach(function (s) {
      var k = +s.dataset.anomaly;
      D.linear.forEach(function (d) { if (d.anomaly === k) drawLinear(s, d); });
    });
  }
  function all() {
    draw();
    throughput();
    latency();
    rounds();
    linearDiagrams();
  }
  all();
  var resizeTimer;
  window.addEventListener('resize', function () { clearTimeout(resizeTimer); resizeTimer = setTimeout(all, 150); });
})();
