// Minimal RFC 4180 CSV reading and writing (quoted fields, embedded commas/quotes/newlines), and atomic writes.
import { writeFileSync, renameSync } from "node:fs";
import { BadInputError } from "../errors.ts";

export interface CsvTable { header: string[]; rows: string[][] }

export function parseCsv(text: string, file = "(csv)"): CsvTable {
  const records: string[][] = [];
  let field = "", row: string[] = [], i = 0, quoted = false;
  if (text.charCodeAt(0) === 0xfeff) i = 1; // BOM
  for (; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') { field += '"'; i++; } else quoted = false;
      } else field += ch;
    } else if (ch === '"' && field === "") quoted = true;
    else if (ch === ",") { row.push(field); field = ""; }
    else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && text[i + 1] === "\n") i++;
      row.push(field); field = "";
      if (!(row.length === 1 && row[0] === "")) records.push(row);
      row = [];
    } else field += ch;
  }
  if (quoted) throw new BadInputError(file, "unterminated quoted field");
  if (field !== "" || row.length > 0) { row.push(field); records.push(row); }
  if (records.length === 0) throw new BadInputError(file, "empty CSV (no header)");
  const header = records[0];
  const rows = records.slice(1);
  rows.forEach((r, j) => {
    if (r.length !== header.length) throw new BadInputError(file, `line ${j + 2} has ${r.length} fields, the header has ${header.length}`);
  });
  return { header, rows };
}

function quote(v: string): string {
  return /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export function formatCsv(header: readonly string[], rows: readonly (readonly (string | number | null | undefined)[])[]): string {
  const cell = (v: string | number | null | undefined) => (v === null || v === undefined ? "" : typeof v === "number" ? (Number.isFinite(v) ? String(v) : "") : quote(v));
  return [header.map(quote).join(","), ...rows.map((r) => r.map(cell).join(","))].join("\n") + "\n";
}

/** Write to a temporary file beside the target, then rename: readers never see half a file. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}
