// Minimal RFC 4180 CSV reader: quoted fields, doubled quotes, CRLF, BOM. Keeps each record's line number so
// errors can point at the line a user sees in an editor.

export interface CsvTable {
  header: string[];
  rows: string[][];
  /** 1-based line number where each row starts (the header is line 1). */
  lines: number[];
}

export function parseCsv(text: string): CsvTable {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const records: string[][] = [];
  const starts: number[] = [];
  let field = "", record: string[] = [], quoted = false, line = 1, recordLine = 1, fieldStarted = false;
  const endField = () => {
    record.push(field);
    field = "";
    fieldStarted = false;
  };
  const endRecord = () => {
    endField();
    if (!(record.length === 1 && record[0] === "")) {
      records.push(record);
      starts.push(recordLine);
    }
    record = [];
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') (field += '"'), i++;
        else quoted = false;
      } else {
        if (ch === "\n") line++;
        field += ch;
      }
    } else if (ch === '"' && !fieldStarted) {
      quoted = fieldStarted = true;
    } else if (ch === ",") endField();
    else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && text[i + 1] === "\n") i++;
      endRecord();
      line++;
      recordLine = line;
    } else {
      field += ch;
      fieldStarted = true;
    }
  }
  if (quoted) throw new Error(`unterminated quoted field starting on line ${recordLine}`);
  if (field !== "" || record.length) endRecord();
  const [header = [], ...rows] = records;
  return { header: header.map((h) => h.trim()), rows, lines: starts.slice(1) };
}
