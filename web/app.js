// The scoring page: the browser runtime (lib/m2fn-web.js, built by `npm run build:web`) on a model
// directory, an image picked or dropped, attribute controls built from the model card's schema,
// the predicted CTR, and a chart of the CTR across the levels of one categorical attribute (the
// hour, by default) for the same creative. Plain ES module, no build step.
import { loadWeb, scoreValue } from './lib/m2fn-web.js';

const $ = (id) => document.getElementById(id);
let scorer = null;
let image = null; // a Blob (File) of the ad image
let run = 0; // the latest scoring request; older results are dropped

function status(text, error = false) {
  $('status').textContent = text;
  $('status').className = error ? 'error' : '';
}

const pct = (x) => `${(100 * x).toFixed(3)}%`;

async function loadModel() {
  document.body.dataset.state = 'loading';
  await scorer?.close();
  scorer = null;
  const files = [...$('model-files').files];
  let source;
  if (files.length) {
    const onnx = files.find((f) => f.name.endsWith('.onnx'));
    const card = files.find((f) => f.name.endsWith('.json'));
    if (!onnx || !card) throw new Error('pick both files of the model: inference.onnx and inference.card.json');
    source = { model: new Uint8Array(await onnx.arrayBuffer()), card: JSON.parse(await card.text()) };
  } else {
    const url = $('model-url').value.trim();
    source = { modelUrl: url.endsWith('/') || url.endsWith('.onnx') ? url : `${url}/` };
  }
  scorer = await loadWeb(source, { wasmPaths: new URL('ort/', location.href).href, threads: 1 });
  const c = scorer.card;
  $('model-info').textContent = `${c.model} · ${c.preprocessing.size}² · ${c.parameters.total.toLocaleString()} parameters · ${scorer.ep}`;
  buildControls(c.auxSchema);
  document.body.dataset.state = 'ready';
}

/** One control per schema attribute: a select for categorical, a text box for text, a number box for numeric. */
function buildControls(schema) {
  const form = $('attributes');
  form.replaceChildren();
  const chart = $('chart-attribute');
  chart.replaceChildren();
  for (const a of schema?.attributes ?? []) {
    const label = document.createElement('label');
    const name = document.createElement('span');
    name.textContent = a.name;
    if (a.description) name.title = a.description;
    let input;
    if (a.kind === 'categorical') {
      input = document.createElement('select');
      for (const level of a.levels) input.add(new Option(level, level));
      chart.add(new Option(a.name, a.name, false, a.name === 'hour'));
    } else {
      input = document.createElement('input');
      input.type = a.kind === 'numeric' ? 'number' : 'text';
      if (a.kind === 'numeric') input.value = String(a.mean ?? 0);
    }
    input.name = a.name;
    label.append(name, input);
    form.append(label);
  }
  $('chart-attribute').parentElement.hidden = chart.options.length === 0;
}

function attributes() {
  const out = {};
  for (const a of scorer.card.auxSchema?.attributes ?? []) {
    const v = $('attributes').elements.namedItem(a.name).value;
    out[a.name] = a.kind === 'numeric' ? Number(v) : v;
  }
  return out;
}

async function score() {
  if (!scorer || !image) return;
  const mine = ++run;
  document.body.dataset.state = 'scoring';
  status('scoring…');
  try {
    const attrs = attributes();
    const s = await scorer.score(image, attrs);
    const name = $('chart-attribute').value;
    const levels = scorer.card.auxSchema?.attributes.find((a) => a.name === name)?.levels ?? [];
    const across = levels.length ? await scorer.scoreMany(levels.map((l) => ({ image, attributes: { ...attrs, [name]: l } })), { batchSize: levels.length }) : [];
    if (mine !== run) return;
    const v = scoreValue(s);
    $('ctr').textContent = 'ctr' in s ? pct(v) : `mean ${v.toFixed(3)}`;
    $('ctr').dataset.value = String(v);
    drawChart(name, levels, across.map(scoreValue), String(attrs[name]));
    status(`scored with ${scorer.ep}`);
    document.body.dataset.state = 'scored';
  } catch (e) {
    if (mine !== run) return;
    status(e.message, true);
    document.body.dataset.state = 'error';
  }
}

/** Bars of the predicted value per level; the level now set is highlighted. Values ride on data-* for tests. */
function drawChart(name, levels, values, current) {
  const svg = $('chart');
  const NS = 'http://www.w3.org/2000/svg';
  const W = 640, H = 260, left = 56, bottom = 24, top = 10;
  svg.replaceChildren();
  if (!levels.length) return;
  const lo = Math.min(...values), hi = Math.max(...values);
  const span = hi - lo || Math.abs(hi) || 1;
  const floor = lo - 0.1 * span, ceil = hi + 0.05 * span; // a zoomed axis: differences across levels are small
  const y = (v) => top + (H - top - bottom) * (1 - (v - floor) / (ceil - floor));
  const bw = (W - left) / levels.length;
  const el = (tag, attrs, text) => {
    const e = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    svg.append(e);
    return e;
  };
  for (const t of [floor, (floor + ceil) / 2, ceil]) {
    el('text', { x: left - 4, y: y(t) + 3, 'text-anchor': 'end' }, pct(t));
    el('line', { x1: left, x2: W, y1: y(t), y2: y(t), stroke: '#dde' });
  }
  levels.forEach((level, i) => {
    const bar = el('rect', { class: level === current ? 'bar current' : 'bar', x: left + i * bw + 1, y: y(values[i]), width: Math.max(1, bw - 2), height: H - bottom - y(values[i]), 'data-level': level, 'data-value': values[i] });
    bar.append(Object.assign(document.createElementNS(NS, 'title'), { textContent: `${name} ${level}: ${pct(values[i])}` }));
    el('text', { x: left + (i + 0.5) * bw, y: H - 8, 'text-anchor': 'middle' }, level);
  });
}

function setImage(file) {
  if (!file) return;
  image = file;
  $('preview').src = URL.createObjectURL(file);
  void score();
}

$('load').addEventListener('click', () => loadModel().then(score).catch((e) => { status(e.message, true); document.body.dataset.state = 'error'; }));
$('image').addEventListener('change', (e) => setImage(e.target.files[0]));
$('attributes').addEventListener('change', () => void score());
$('chart-attribute').addEventListener('change', () => void score());
const drop = $('drop');
drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => { e.preventDefault(); drop.classList.remove('over'); setImage(e.dataTransfer.files[0]); });
// Load the model next to the page at once when there is one (as m2fn serve --web serves it).
loadModel().catch((e) => { status(`${e.message} — set the model's URL or pick its files, then Load`, true); document.body.dataset.state = 'error'; });
