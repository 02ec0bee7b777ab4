// The parts a report document is made of — paragraphs, lists, tables, chart references — and its
// sections. Their own module so that the document (document.ts) and the modules that build some
// of its parts (device-factor.ts) both import them, and neither imports the other back.

/** One part of a section, rendered alike by report.html and report.md. */
export type DocumentPart =
  | { kind: "paragraph"; text: string }
  | { kind: "list"; items: string[] }
  | { kind: "table"; caption?: string; headers: string[]; rows: string[][] }
  | { kind: "chart"; name: string; title: string };

export interface Section {
  title: string;
  /** The section's parts, in order (the field keeps its first name: the renderers read it). */
  blocks: DocumentPart[];
}

/** A paragraph part. */
export const paragraph = (text: string): DocumentPart => ({ kind: "paragraph", text });
