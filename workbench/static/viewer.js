// The processed picture's viewer on the Tune page: the picture fitted to its box, zoomed with the wheel,
// a pinch, the + and - keys or buttons (at the pointer), panned by dragging or the arrow keys, 1:1 on a
// button, double-click or "1"; "Fit" or "0" fits it again. A new picture keeps the zoom and the place.
// Given the page just before a black & white level ("live"), it draws the picture of a new level itself the
// moment the Level slider moves (255 where grey > level, else 0; inverted if asked), and shows the server's
// picture once one of the level on the slider has arrived: the same pixels, a round trip sooner. Handed the
// pictures of another control's next moves (ahead.js: a slider's steps, a switch's other side), made from
// the settings of the picture it shows, it shows one the moment the control reaches its value.
// The root's data-shown says what is on screen ("server:130", "local:131", "ahead:1.05").
// Plain JavaScript, shipped with the package: nothing is fetched from elsewhere.

const MAX_ZOOM = 16;
// what the controls show: a slider's value (aria-valuetext), a switch's side (data-selected on its label)
const WATCHED = { subtree: true, attributes: true, attributeOldValue: true,
                  attributeFilter: ["aria-valuetext", "data-selected"] };

function build(parent) {
  const root = document.createElement("div");
  root.className = "ocrv";
  root.innerHTML =
    '<div class="ocrv-bar" role="toolbar" aria-label="Zoom">' +
    '<button type="button" data-act="fit" title="Fit the page in the box (0)">Fit</button>' +
    '<button type="button" data-act="one" title="One pixel of the picture per pixel of the screen (1)">1:1</button>' +
    '<button type="button" data-act="in" aria-label="Zoom in" title="Zoom in (+)">+</button>' +
    '<button type="button" data-act="out" aria-label="Zoom out" title="Zoom out (-)">−</button>' +
    '<span class="ocrv-zoom" aria-live="polite"></span></div>' +
    '<div class="ocrv-view" tabindex="0" aria-label="The processed page: wheel or +/- to zoom, drag or arrows to pan">' +
    '<img class="ocrv-img" alt="The processed page" draggable="false">' +
    '<canvas class="ocrv-img ocrv-local" hidden aria-hidden="true"></canvas></div>';
  parent.appendChild(root);
  const s = { z: 1, x: 0, y: 0, fit: true, w: 1, h: 1, root };
  root._ocrv = s;
  const view = root.querySelector(".ocrv-view");
  const img = root.querySelector("img");
  const canvas = root.querySelector("canvas");
  const label = root.querySelector(".ocrv-zoom");

  s.draw = () => {
    const vw = view.clientWidth, vh = view.clientHeight;
    if (s.fit) {
      s.z = Math.min(vw / s.w, vh / s.h);
      s.x = (vw - s.w * s.z) / 2;
      s.y = (vh - s.h * s.z) / 2;
    } else {  // keep the picture over the box: it may not be pushed out of sight
      const pw = s.w * s.z, ph = s.h * s.z;
      s.x = pw <= vw ? (vw - pw) / 2 : Math.min(0, Math.max(vw - pw, s.x));
      s.y = ph <= vh ? (vh - ph) / 2 : Math.min(0, Math.max(vh - ph, s.y));
    }
    for (const el of [img, canvas]) {
      el.style.width = s.w + "px";
      el.style.height = s.h + "px";
      el.style.transform = `translate(${s.x}px, ${s.y}px) scale(${s.z})`;
    }
    label.textContent = s.fit ? "fitted" : Math.round(s.z * 100) + "%";
  };
  s.zoomAt = (z, px, py) => {  // zoom to z keeping the picture's point under (px, py) of the box there
    const fitZ = Math.min(view.clientWidth / s.w, view.clientHeight / s.h);
    z = Math.max(Math.min(fitZ, 1), Math.min(MAX_ZOOM, z));
    s.x = px - (px - s.x) * (z / s.z);
    s.y = py - (py - s.y) * (z / s.z);
    s.z = z;
    s.fit = false;
    s.draw();
  };
  const centre = () => [view.clientWidth / 2, view.clientHeight / 2];
  const act = (what, px, py) => {
    if (what === "fit") { s.fit = true; s.draw(); return; }
    if (px === undefined) [px, py] = centre();
    if (what === "one") s.zoomAt(1 / (window.devicePixelRatio || 1), px, py);
    if (what === "in") s.zoomAt(s.z * 1.5, px, py);
    if (what === "out") s.zoomAt(s.z / 1.5, px, py);
  };
  root.querySelector(".ocrv-bar").addEventListener("click", (e) => {
    const button = e.target.closest("button");
    if (button) act(button.dataset.act);
  });
  view.addEventListener("wheel", (e) => {
    e.preventDefault();
    const r = view.getBoundingClientRect();
    s.zoomAt(s.z * Math.exp(-e.deltaY * 0.002), e.clientX - r.left, e.clientY - r.top);
  }, { passive: false });
  view.addEventListener("dblclick", (e) => {
    const r = view.getBoundingClientRect();
    if (s.fit) act("one", e.clientX - r.left, e.clientY - r.top); else act("fit");
  });
  const pointers = new Map();
  let pinch = 0;
  view.addEventListener("pointerdown", (e) => {
    view.setPointerCapture(e.pointerId);
    pointers.set(e.pointerId, [e.clientX, e.clientY]);
  });
  view.addEventListener("pointermove", (e) => {
    const last = pointers.get(e.pointerId);
    if (!last) return;
    pointers.set(e.pointerId, [e.clientX, e.clientY]);
    if (pointers.size === 2) {  // a pinch: zoom by the change of the fingers' distance, at their middle
      const [a, b] = [...pointers.values()];
      const d = Math.hypot(a[0] - b[0], a[1] - b[1]);
      const r = view.getBoundingClientRect();
      if (pinch) s.zoomAt(s.z * d / pinch, (a[0] + b[0]) / 2 - r.left, (a[1] + b[1]) / 2 - r.top);
      pinch = d;
      return;
    }
    if (s.fit) return;
    s.x += e.clientX - last[0];
    s.y += e.clientY - last[1];
    s.draw();
  });
  const up = (e) => { pointers.delete(e.pointerId); pinch = 0; };
  view.addEventListener("pointerup", up);
  view.addEventListener("pointercancel", up);
  view.addEventListener("keydown", (e) => {
    const step = 40, keys = { ArrowLeft: [step, 0], ArrowRight: [-step, 0], ArrowUp: [0, step], ArrowDown: [0, -step] };
    if (e.key === "+" || e.key === "=") act("in");
    else if (e.key === "-") act("out");
    else if (e.key === "0") act("fit");
    else if (e.key === "1") act("one");
    else if (keys[e.key] && !s.fit) { s.x += keys[e.key][0]; s.y += keys[e.key][1]; s.draw(); }
    else return;
    e.preventDefault();
  });
  s.show = (what) => {  // "server" or "local"
    img.hidden = what !== "server";
    canvas.hidden = what !== "local";
  };
  s.sliderLevel = () => {
    const el = s.live && document.querySelector(s.live.watch + ' input[type="range"]');
    const v = el ? parseInt(el.getAttribute("aria-valuetext"), 10) : NaN;
    return Number.isNaN(v) ? null : v;
  };
  s.drawLevel = (level) => {  // the picture of this level, from the grey page, into the canvas
    if (!s.grey || s.grey.width !== s.w || s.grey.height !== s.h) return false;
    const out = new ImageData(s.w, s.h), g = s.grey.data, o = out.data, inv = s.live.invert;
    for (let i = 0; i < g.length; i += 4) {
      let v = g[i] > level ? 255 : 0;
      if (inv) v = 255 - v;
      o[i] = o[i + 1] = o[i + 2] = v;
      o[i + 3] = 255;
    }
    canvas.width = s.w;
    canvas.height = s.h;
    canvas.getContext("2d").putImageData(out, 0, 0);
    s.show("local");
    root.dataset.shown = "local:" + level;
    return true;
  };
  s.settle = () => {  // the server's picture when it is of the level on the slider (or nothing is drawn here)
    const want = s.sliderLevel();
    if (!s.live || want === null || want === s.serverLevel || !s.drawLevel(want)) {
      s.show("server");
      root.dataset.shown = "server:" + s.serverLevel;
    }
  };
  img.addEventListener("load", () => { img.decode().then(s.settle, s.settle); });
  s.resize = (w, h) => {  // another size (a crop, a resize): the same share of the picture stays in view
    if (w === s.w && h === s.h) return;
    s.z = s.z / (s.w > 1 ? w / s.w : 1);
    s.w = w;
    s.h = h;
  };
  s.showAhead = (a, shown) => {  // the server's picture of the slider's new value, made before it was asked for
    s.resize(a.width_px, a.height_px);
    if (img.getAttribute("src") !== a.src) img.setAttribute("src", a.src);
    s.show("server");
    root.dataset.shown = shown;
    s.fitBox();
    s.draw();
  };
  s.watcher = new MutationObserver((changes) => {
    for (const c of changes) {
      if (!c.target.matches) continue;
      if (s.live && c.target.matches(s.live.watch + ' input[type="range"]')) {
        const v = s.sliderLevel();
        if (v !== null && v !== s.serverLevel) s.drawLevel(v); else s.settle();
        return;
      }
      const a = window.ocrvAhead;
      if (!a || a.base !== s.base || !c.target.closest(a.watch)) continue;
      if (c.target.matches('input[type="range"]')) {
        const v = parseFloat(c.target.value);
        s.ahead(a, (p) => Math.abs(v - p) < 1e-9);
        return;
      }
      const box = c.target.closest(a.watch).querySelector('input[type="checkbox"]');
      if (c.attributeName === "data-selected" && box && c.oldValue !== c.target.getAttribute("data-selected")) {
        s.ahead(a, (p) => p === box.checked);  // a switch turned (by a click, a key, a tap): its other side
        return;
      }
    }
  });
  s.ahead = (a, at) => {  // the picture made ahead of the value the control shows, or its own again
    const found = a.steps.find((p) => at(p.value));
    if (found) s.showAhead(found, "ahead:" + found.value);
    else if (at(a.value)) s.showAhead(s.server, "server:" + s.serverLevel);  // back again
  };
  s.watcher.observe(document.body, WATCHED);
  s.fitBox = () => {  // the box as tall as the picture needs at the box's width, at most s.most pixels
    const want = Math.round(Math.min(s.most, Math.max(120, view.clientWidth * s.h / s.w)));
    if (view.style.height !== want + "px") view.style.height = want + "px";
  };
  s.observer = new ResizeObserver(() => { s.fitBox(); s.draw(); });
  s.observer.observe(view);
  return s;
}

export default function (component) {
  const { parentElement, data } = component;
  const host = parentElement.querySelector(".ocrv");
  const s = host ? host._ocrv : build(parentElement);
  const view = s.root.querySelector(".ocrv-view");
  s.observer.observe(view);  // again: harmless when observed, needed after a cleanup
  s.watcher.observe(document.body, WATCHED);
  const img = s.root.querySelector("img");
  s.resize(data.width_px, data.height_px);
  s.base = data.base;  // the settings the picture is of: pictures made ahead from others are not shown
  s.server = { src: data.src, width_px: data.width_px, height_px: data.height_px };
  s.serverLevel = data.level;
  s.live = data.live || null;
  if (s.live && s.live.grey !== s.greySrc) {  // the grey page the levels are drawn from, as pixels
    s.greySrc = s.live.grey;
    s.grey = null;
    const source = new Image();
    source.onload = () => {
      if (s.greySrc !== source.src) return;
      const c = document.createElement("canvas");
      c.width = source.naturalWidth;
      c.height = source.naturalHeight;
      const ctx = c.getContext("2d", { willReadFrequently: true });
      ctx.drawImage(source, 0, 0);
      s.grey = ctx.getImageData(0, 0, c.width, c.height);
    };
    source.src = s.live.grey;
  }
  if (!s.live) { s.grey = null; s.greySrc = null; }
  if (img.getAttribute("src") !== data.src) img.setAttribute("src", data.src); else s.settle();
  s.most = data.height;
  s.fitBox();
  s.draw();
  return () => { s.observer.disconnect(); s.watcher.disconnect(); };
}
