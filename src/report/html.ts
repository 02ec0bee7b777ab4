// report.html: one self-contained file — inline CSS and inline SVG charts, no script, nothing
// fetched — so it opens the same anywhere, offline, years later.
import type { Block, Section } from "./document.js";

export function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

const CSS = `
body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.8em}
table{border-collapse:collapse;margin:.8em 0;font-size:.9em}caption{text-align:left;font-weight:bold;padding:.3em 0}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top}th{background:#f3f3f3}
figure{margin:1em 0}figcaption{font-size:.9em;color:#555}.chart svg{max-width:100%;height:auto}
.meta{color:#666;font-size:.9em}
`;

function block(b: Block, svgs: Map<string, string>): string {
  switch (b.kind) {
    case "paragraph":
      return `<p>${escapeHtml(b.text)}</p>`;
    case "list":
      return `<ul>${b.items.map((i) => `<li>${escapeHtml(i)}</li>`).join("")}</ul>`;
    case "table":
      return [
        "<table>",
        b.caption ? `<caption>${escapeHtml(b.caption)}</caption>` : "",
        `<thead><tr>${b.headers.map((h) => `<th>${escapeHtml(h)}</th>`).join("")}</tr></thead>`,
        `<tbody>${b.rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join("")}</tr>`).join("")}</tbody>`,
        "</table>",
      ].join("");
    case "chart": {
      const svg = svgs.get(b.name);
      return svg
        ? `<figure class="chart" data-chart="${escapeHtml(b.name)}">${svg}<figcaption>${escapeHtml(b.title)}</figcaption></figure>`
        : `<p>(${escapeHtml(b.title)}: no data)</p>`;
    }
  }
}

export function renderHtml(
  title: string,
  meta: string,
  sections: Section[],
  svgs: Map<string, string>,
): string {
  return [
    "<!DOCTYPE html>",
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${CSS}</style></head><body>`,
    `<h1>${escapeHtml(title)}</h1><p class="meta">${escapeHtml(meta)}</p>`,
    ...sections.map(
      (s) =>
        `<section><h2>${escapeHtml(s.title)}</h2>${s.blocks.map((b) => block(b, svgs)).join("\n")}</section>`,
    ),
    "</body></html>",
    "",
  ].join("\n");
}
