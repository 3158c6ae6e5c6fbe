// A tiny, strict XML parser for OME-XML: elements, attributes, text, comments, CDATA, processing
// instructions and a DOCTYPE line. No namespaces resolution (prefixes are dropped to local names),
// no external entities. Malformed input throws XmlError with the character offset, so callers can
// turn it into a BadInputError naming their file.

export interface XmlElement {
  /** Local name (any "ns:" prefix removed). */
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

export class XmlError extends Error {
  constructor(reason: string, readonly offset: number) {
    super(`${reason} at character ${offset}`);
    this.name = "XmlError";
  }
}

const localName = (qname: string) => {
  const i = qname.indexOf(":");
  return i < 0 ? qname : qname.slice(i + 1);
};

const isNameChar = (c: number) =>
  (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 58 || c === 45 || c === 46 || c > 127;
const isSpace = (c: number) => c === 32 || c === 9 || c === 10 || c === 13;

function decodeEntities(s: string, at: number): string {
  if (s.indexOf("&") < 0) return s;
  let out = "";
  let i = 0;
  while (i < s.length) {
    const amp = s.indexOf("&", i);
    if (amp < 0) { out += s.slice(i); break; }
    out += s.slice(i, amp);
    const semi = s.indexOf(";", amp);
    if (semi < 0 || semi - amp > 10) throw new XmlError("unterminated entity reference", at + amp);
    const ent = s.slice(amp + 1, semi);
    if (ent === "lt") out += "<";
    else if (ent === "gt") out += ">";
    else if (ent === "amp") out += "&";
    else if (ent === "quot") out += '"';
    else if (ent === "apos") out += "'";
    else if (ent.startsWith("#x") || ent.startsWith("#X")) {
      const cp = Number.parseInt(ent.slice(2), 16);
      if (!Number.isFinite(cp) || cp > 0x10ffff) throw new XmlError(`bad character reference &${ent};`, at + amp);
      out += String.fromCodePoint(cp);
    } else if (ent.startsWith("#")) {
      const cp = Number.parseInt(ent.slice(1), 10);
      if (!Number.isFinite(cp) || cp > 0x10ffff) throw new XmlError(`bad character reference &${ent};`, at + amp);
      out += String.fromCodePoint(cp);
    } else throw new XmlError(`unknown entity &${ent};`, at + amp);
    i = semi + 1;
  }
  return out;
}

/** Parses a whole document and returns its root element. */
export function parseXml(src: string): XmlElement {
  let i = 0;
  const n = src.length;
  const stack: XmlElement[] = [];
  let root: XmlElement | null = null;

  const expect = (token: string, what: string) => {
    const j = src.indexOf(token, i);
    if (j < 0) throw new XmlError(`unterminated ${what}`, i);
    i = j + token.length;
  };

  const readName = (): string => {
    const start = i;
    while (i < n && isNameChar(src.charCodeAt(i))) i++;
    if (i === start) throw new XmlError("expected a name", i);
    return src.slice(start, i);
  };

  const skipSpace = () => { while (i < n && isSpace(src.charCodeAt(i))) i++; };

  while (i < n) {
    const lt = src.indexOf("<", i);
    const textEnd = lt < 0 ? n : lt;
    if (textEnd > i) {
      const raw = src.slice(i, textEnd);
      if (stack.length) stack[stack.length - 1].text += decodeEntities(raw, i);
      else if (raw.trim()) throw new XmlError("text outside the root element", i);
    }
    if (lt < 0) break;
    i = lt;
    if (src.startsWith("<!--", i)) { i += 4; expect("-->", "comment"); continue; }
    if (src.startsWith("<![CDATA[", i)) {
      const start = i + 9;
      i = start;
      expect("]]>", "CDATA section");
      if (!stack.length) throw new XmlError("CDATA outside the root element", start);
      stack[stack.length - 1].text += src.slice(start, i - 3);
      continue;
    }
    if (src.startsWith("<?", i)) { i += 2; expect("?>", "processing instruction"); continue; }
    if (src.startsWith("<!", i)) { i += 2; expect(">", "declaration"); continue; }
    if (src.startsWith("</", i)) {
      i += 2;
      const name = readName();
      skipSpace();
      if (src[i] !== ">") throw new XmlError(`malformed closing tag </${name}`, i);
      i++;
      const open = stack.pop();
      if (!open) throw new XmlError(`closing tag </${name}> without an opening tag`, i);
      if (open.name !== localName(name)) throw new XmlError(`closing tag </${name}> does not match <${open.name}>`, i);
      continue;
    }
    // Start tag.
    i++;
    const el: XmlElement = { name: localName(readName()), attrs: {}, children: [], text: "" };
    let selfClosing = false;
    for (;;) {
      skipSpace();
      if (i >= n) throw new XmlError(`unterminated start tag <${el.name}`, i);
      const c = src[i];
      if (c === ">") { i++; break; }
      if (c === "/") {
        if (src[i + 1] !== ">") throw new XmlError(`stray '/' in tag <${el.name}`, i);
        i += 2;
        selfClosing = true;
        break;
      }
      const attrName = localName(readName());
      skipSpace();
      if (src[i] !== "=") throw new XmlError(`attribute ${attrName} has no value`, i);
      i++;
      skipSpace();
      const q = src[i];
      if (q !== '"' && q !== "'") throw new XmlError(`attribute ${attrName} value is not quoted`, i);
      const end = src.indexOf(q, i + 1);
      if (end < 0) throw new XmlError(`unterminated value of attribute ${attrName}`, i);
      const raw = src.slice(i + 1, end);
      if (raw.indexOf("<") >= 0) throw new XmlError(`'<' inside value of attribute ${attrName}`, i);
      el.attrs[attrName] = decodeEntities(raw, i + 1);
      i = end + 1;
    }
    if (stack.length) stack[stack.length - 1].children.push(el);
    else if (root) throw new XmlError("more than one root element", i);
    else root = el;
    if (!selfClosing) stack.push(el);
  }
  if (stack.length) throw new XmlError(`element <${stack[stack.length - 1].name}> is never closed`, n);
  if (!root) throw new XmlError("no root element", 0);
  return root;
}

/** Direct children with the given local name. */
export const childrenNamed = (el: XmlElement, name: string) => el.children.filter((c) => c.name === name);

/** First descendant (depth-first) with the given local name. */
export function findFirst(el: XmlElement, name: string): XmlElement | undefined {
  for (const c of el.children) {
    if (c.name === name) return c;
    const d = findFirst(c, name);
    if (d) return d;
  }
  return undefined;
}
