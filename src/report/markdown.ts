// report.md: the same sections and tables as report.html, with charts as references to the SVG
// files written beside it (charts/<name>.svg).
import type { Block, Section } from "./document.js";

/** A table cell: pipes escaped, line breaks flattened. */
function cell(s: string): string {
  return s.replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}

function block(b: Block, charts: Set<string>): string {
  switch (b.kind) {
    case "paragraph":
      return b.text;
    case "list":
      return b.items.map((i) => `- ${i}`).join("\n");
    case "table": {
      const head = b.headers.map((h) => cell(h) || " ");
      return [
        b.caption ? `**${b.caption}**\n` : "",
        `| ${head.join(" | ")} |`,
        `| ${head.map(() => "---").join(" | ")} |`,
        ...b.rows.map((r) => `| ${r.map(cell).join(" | ")} |`),
      ]
        .filter((l) => l !== "")
        .join("\n");
    }
    case "chart":
      return charts.has(b.name) ? `![${b.title}](charts/${b.name}.svg)` : `(${b.title}: no data)`;
  }
}

export function renderMarkdown(
  title: string,
  meta: string,
  sections: Section[],
  charts: Set<string>,
): string {
  return [
    `# ${title}`,
    meta,
    ...sections.map((s) => [`## ${s.title}`, ...s.blocks.map((b) => block(b, charts))].join("\n\n")),
    "",
  ].join("\n\n");
}
