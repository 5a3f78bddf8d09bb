// GET /api/docs: a self-contained page (no CDN, no script from elsewhere) that renders /api/openapi.json.
import { Hono } from 'hono';
import type { AppEnv } from '../app-env.ts';

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Flotilla API reference</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1d2433;background:#f6f7f9}
header{background:#14213d;color:#fff;padding:16px 24px}header h1{margin:0;font-size:20px}
main{max-width:1000px;margin:0 auto;padding:16px}
input{width:100%;padding:8px;font-size:15px;margin:8px 0 16px;box-sizing:border-box}
details{background:#fff;border:1px solid #d8dce3;border-radius:6px;margin:6px 0}
summary{cursor:pointer;padding:8px 12px;display:flex;gap:12px;align-items:baseline}
.m{font:600 12px monospace;padding:2px 6px;border-radius:4px;color:#fff;min-width:52px;text-align:center}
.get{background:#2f7d32}.post{background:#1565c0}.put{background:#ef6c00}.patch{background:#6a1b9a}.delete{background:#c62828}
code,pre{font-family:ui-monospace,monospace;font-size:13px}pre{background:#f0f2f5;padding:8px;overflow:auto;margin:4px 12px 12px}
.body{padding:0 12px 8px}h4{margin:8px 0 4px}
</style></head><body>
<header><h1>Flotilla API reference</h1><div id="info"></div></header>
<main><input id="q" placeholder="Filter by path or summary" aria-label="filter"><div id="ops">Loading /api/openapi.json ...</div></main>
<script>
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));
const show = (v) => '<pre>' + esc(JSON.stringify(v, null, 2)) + '</pre>';
fetch('/api/openapi.json').then((r) => r.json()).then((doc) => {
  const base = (doc.servers && doc.servers[0] && doc.servers[0].url) || '';
  document.getElementById('info').textContent = (doc.info.description || '') + ' (version ' + doc.info.version + ')';
  const ops = [];
  for (const [path, item] of Object.entries(doc.paths || {})) for (const [method, op] of Object.entries(item)) ops.push({ path: (path.startsWith(base) ? '' : base) + path, method, op });
  ops.sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method));
  const render = (filter) => {
    const f = filter.toLowerCase();
    document.getElementById('ops').innerHTML = ops.filter((o) => !f || (o.path + ' ' + (o.op.summary || '')).toLowerCase().includes(f)).map((o) => {
      const params = (o.op.parameters || []).map((p) => '<li><code>' + esc(p.name) + '</code> (' + esc(p.in) + (p.required ? ', required' : '') + ')' + (p.description ? ': ' + esc(p.description) : '') + '</li>').join('');
      const body = o.op.requestBody && o.op.requestBody.content;
      const responses = Object.entries(o.op.responses || {}).map(([code, r]) => '<li><b>' + esc(code) + '</b> ' + esc(r.description || '') + '</li>').join('');
      return '<details><summary><span class="m ' + o.method + '">' + o.method.toUpperCase() + '</span><code>' + esc(o.path) + '</code><span>' + esc(o.op.summary || '') + '</span></summary><div class="body">'
        + (params ? '<h4>Parameters</h4><ul>' + params + '</ul>' : '')
        + (body ? '<h4>Request body</h4>' + Object.entries(body).map(([t, c]) => '<div><code>' + esc(t) + '</code></div>' + show(c.schema || {})).join('') : '')
        + '<h4>Responses</h4><ul>' + responses + '</ul></div></details>';
    }).join('') || 'No operation matches.';
  };
  render('');
  document.getElementById('q').addEventListener('input', (e) => render(e.target.value));
  window.__components = doc.components;
}).catch((e) => { document.getElementById('ops').textContent = 'Could not load /api/openapi.json: ' + e; });
</script></body></html>`;

export function docsRoutes() {
  return new Hono<AppEnv>().get('/api/docs', (c) => c.html(PAGE));
}
