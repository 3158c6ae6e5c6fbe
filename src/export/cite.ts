// Citations for a bioimage.io package: the bioimage_embed work, and the training data's own citation found in an
// attribution file beside the data (ATTRIBUTION.md, CITATION.md, README.md, SOURCE.txt) or given by the user.
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

export interface CiteEntry {
  text: string;
  doi?: string;
  url?: string;
}

export const BIOIMAGE_EMBED_CITATION: CiteEntry = {
  text: "bioimage_embed: autoencoders and self-supervised embeddings for biological images (Uhlmann group, EMBL-EBI); this model was trained with its TypeScript port, bioimage-embed",
  url: "https://github.com/uhlmanngroup/bioimage_embed",
};

const DOI = /\b(10\.\d{4,9}\/[^\s)"'>\]]+[^\s)"'>\].,;])/;
const URL_RE = /https?:\/\/[^\s)"'>\]]+[^\s)"'>\].,;]/;

/** "text|doi-or-url" (the CLI's cite_data=) → an entry. */
export function parseCite(arg: string): CiteEntry {
  const [text, ref] = arg.split("|").map((s) => s.trim());
  if (!ref) return { text };
  return DOI.test(ref) && !ref.startsWith("http") ? { text, doi: DOI.exec(ref)![1] } : { text, url: ref };
}

const ATTRIBUTION_FILES = ["CITATION.md", "ATTRIBUTION.md", "README.md", "SOURCE.txt"];

/** The bullet lines under a "Cite"/"Citing"/"Citation" heading or line. */
function citeLines(text: string): string[] {
  const lines = text.split(/\r?\n/);
  const out: string[] = [];
  let inside = false;
  for (const line of lines) {
    if (/^(#+\s*)?(cite|citing|citation|how to cite)\b/i.test(line.trim())) {
      inside = true;
      continue;
    }
    if (!inside) continue;
    const m = /^\s*[-*]\s+(.*)$/.exec(line);
    if (m) out.push(m[1].trim());
    else if (out.length && /^\s{2,}\S/.test(line)) out[out.length - 1] += ` ${line.trim()}`;
    else if (out.length && (line.trim() === "" || /^#/.test(line))) break;
  }
  return out;
}

/**
 * Citations of the data, from the first attribution file found beside one of `paths` (the data folder or manifest,
 * then an image of it) or up to two folders above. Entries without a DOI or URL get the file's first URL (the
 * data's source), since the spec wants one of the two.
 */
export function dataCitations(...paths: string[]): { cites: CiteEntry[]; from: string | null } {
  for (const p of paths.filter(Boolean)) {
    const found = citationsNear(p);
    if (found.from) return found;
  }
  return { cites: [], from: null };
}

function citationsNear(path: string): { cites: CiteEntry[]; from: string | null } {
  let dir = resolve(path);
  if (existsSync(dir) && statSync(dir).isFile()) dir = dirname(dir);
  for (let up = 0; up < 3; up++, dir = dirname(dir)) {
    for (const f of ATTRIBUTION_FILES) {
      const file = join(dir, f);
      if (!existsSync(file)) continue;
      const text = readFileSync(file, "utf8");
      const lines = citeLines(text);
      if (!lines.length) continue;
      const fallback = URL_RE.exec(text)?.[0];
      const cites = lines.map((l): CiteEntry => {
        const doi = DOI.exec(l)?.[1];
        const url = URL_RE.exec(l)?.[0];
        return doi ? { text: l, doi } : url ? { text: l, url } : fallback ? { text: l, url: fallback } : { text: l };
      });
      return { cites, from: file };
    }
  }
  return { cites: [], from: null };
}
