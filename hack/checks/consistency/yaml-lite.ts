/**
 * Reads the YAML that Prometheus rule files and `promtool test rules` files are written in:
 * block mappings and sequences, plain / single / double-quoted scalars (multi-line too), block
 * scalars (`|`, `>`, with `-`/`+` chomping), and single-line flow collections (`[]`, `{a: b}`).
 * Every scalar stays a string. Anchors, aliases, tags and multi-document streams are refused
 * with the line number, so an unsupported file fails loudly instead of being misread. (The
 * project has no YAML dependency; promtool validates the full syntax of the same files.)
 */

export type YamlValue = string | null | YamlValue[] | { [key: string]: YamlValue };

export class YamlError extends Error {}

interface Line {
  indent: number;
  text: string; // without indentation
  no: number; // 1-based
}

const KEY =
  /^("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s"'#\-[\]{},&*!|>%@`][^:#]*?|-[^\s:#][^:#]*?)\s*:(?:\s+|$)/;

function stripComment(s: string): string {
  let quote: string | undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      if (c === "\\" && quote === '"') i += 1;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") {
      if (i === 0 || /[\s:,[{]/.test(s[i - 1] as string)) quote = c;
    } else if (c === "#" && (i === 0 || /\s/.test(s[i - 1] as string))) {
      return s.slice(0, i).trimEnd();
    }
  }
  return s.trimEnd();
}

function unquoteDouble(body: string, no: number): string {
  return body.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_m, e: string) => {
    if (e.startsWith("u") && e.length === 5) return String.fromCharCode(parseInt(e.slice(1), 16));
    const map: Record<string, string> = {
      n: "\n",
      t: "\t",
      r: "\r",
      '"': '"',
      "\\": "\\",
      "/": "/",
      "0": "\0",
    };
    const v = map[e];
    if (v === undefined) throw new YamlError(`line ${no}: unknown escape \\${e}`);
    return v;
  });
}

export function parseYaml(source: string): YamlValue {
  const raw = source.replace(/\r\n/g, "\n").split("\n");
  let pos = 0;

  const lineAt = (i: number): Line | undefined => {
    const s = raw[i];
    if (s === undefined) return undefined;
    const indent = s.length - s.trimStart().length;
    if (/^ *\t/.test(s)) throw new YamlError(`line ${i + 1}: tab in indentation`);
    return { indent, text: s.slice(indent), no: i + 1 };
  };
  const isBlank = (l: Line): boolean => l.text === "" || l.text.startsWith("#");
  /** The next line that carries content, skipping blanks and comments; `pos` moves to it. */
  const peek = (): Line | undefined => {
    for (;;) {
      const l = lineAt(pos);
      if (l === undefined) return undefined;
      if (!isBlank(l)) {
        if (/^[&*!]/.test(l.text) || /:\s+[&*!]/.test(stripComment(l.text))) {
          throw new YamlError(`line ${l.no}: anchors, aliases and tags are not supported`);
        }
        return l;
      }
      pos += 1;
    }
  };

  const blockScalar = (header: string, parentIndent: number, no: number): string => {
    const m = /^([|>])([-+]?)$/.exec(header);
    if (!m) throw new YamlError(`line ${no}: unsupported block scalar header "${header}"`);
    const lines: string[] = [];
    let blockIndent: number | undefined;
    while (pos < raw.length) {
      const s = raw[pos] as string;
      const indent = s.length - s.trimStart().length;
      if (s.trim() !== "") {
        if (indent <= parentIndent) break;
        blockIndent ??= indent;
        if (indent < blockIndent) break;
      }
      lines.push(s.trim() === "" ? "" : s.slice(blockIndent));
      pos += 1;
    }
    let trailing = 0;
    while (lines.length > 0 && lines[lines.length - 1] === "") {
      lines.pop();
      trailing += 1;
    }
    let text: string;
    if (m[1] === "|") text = lines.join("\n");
    else {
      text = "";
      for (const l of lines) {
        if (l === "") text += "\n";
        else text += text === "" || text.endsWith("\n") ? l : ` ${l}`;
      }
    }
    if (m[2] === "-" || lines.length === 0) return text;
    return m[2] === "+" ? text + "\n".repeat(trailing + 1) : `${text}\n`;
  };

  /** A scalar or flow collection that starts on line `no` with `first` and may continue on deeper lines. */
  const inlineValue = (first: string, parentIndent: number, no: number): YamlValue => {
    if (first.startsWith("|") || first.startsWith(">"))
      return blockScalar(stripComment(first), parentIndent, no);
    let text = first;
    // Gather continuation lines of a multi-line scalar.
    const quote = text.startsWith('"') || text.startsWith("'") ? text[0] : undefined;
    const closed = (t: string): boolean => {
      if (!quote) return true;
      const re = quote === '"' ? /^"(?:[^"\\]|\\.)*"/s : /^'(?:[^']|'')*'/s;
      return re.test(t);
    };
    for (;;) {
      const l = lineAt(pos);
      if (l === undefined) break;
      if (closed(text)) {
        if (quote || isBlank(l) || l.indent <= parentIndent || text.startsWith("[") || text.startsWith("{"))
          break;
        if (KEY.test(l.text))
          throw new YamlError(`line ${l.no}: a mapping is not allowed inside a plain scalar`);
        text += ` ${l.text}`;
      } else {
        // Inside quotes a line break folds to a space and an empty line to a newline.
        if (l.text === "") text += "\n";
        else text += text.endsWith("\n") ? l.text.trim() : ` ${l.text.trim()}`;
      }
      pos += 1;
    }
    return scalarOrFlow(text, no);
  };

  const scalarOrFlow = (text: string, no: number): YamlValue => {
    const t = text.trim();
    if (t.startsWith('"')) {
      const m = /^"((?:[^"\\]|\\.)*)"/s.exec(t);
      if (!m) throw new YamlError(`line ${no}: unterminated double-quoted string`);
      if (stripComment(t.slice(m[0].length)).trim() !== "")
        throw new YamlError(`line ${no}: text after string`);
      return unquoteDouble(m[1] as string, no);
    }
    if (t.startsWith("'")) {
      const m = /^'((?:[^']|'')*)'/s.exec(t);
      if (!m) throw new YamlError(`line ${no}: unterminated single-quoted string`);
      if (stripComment(t.slice(m[0].length)).trim() !== "")
        throw new YamlError(`line ${no}: text after string`);
      return (m[1] as string).replace(/''/g, "'");
    }
    const plain = stripComment(t);
    if (plain.startsWith("[") || plain.startsWith("{")) return flow(plain, no);
    if (plain === "" || plain === "~" || plain === "null") return null;
    return plain;
  };

  const flow = (text: string, no: number): YamlValue => {
    let i = 0;
    const ws = (): void => {
      while (i < text.length && /\s/.test(text[i] as string)) i += 1;
    };
    const item = (): YamlValue => {
      ws();
      const c = text[i];
      if (c === "[") {
        i += 1;
        const out: YamlValue[] = [];
        ws();
        if (text[i] === "]") return (i++, out);
        for (;;) {
          out.push(item());
          ws();
          if (text[i] === ",") i += 1;
          else if (text[i] === "]") return (i++, out);
          else throw new YamlError(`line ${no}: expected "," or "]" in flow sequence`);
        }
      }
      if (c === "{") {
        i += 1;
        const out: Record<string, YamlValue> = {};
        ws();
        if (text[i] === "}") return (i++, out);
        for (;;) {
          const k = item();
          ws();
          if (text[i] !== ":") throw new YamlError(`line ${no}: expected ":" in flow mapping`);
          i += 1;
          out[String(k)] = item();
          ws();
          if (text[i] === ",") i += 1;
          else if (text[i] === "}") return (i++, out);
          else throw new YamlError(`line ${no}: expected "," or "}" in flow mapping`);
        }
      }
      const m = /^("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^,:[\]{}]+(?::[^\s,[\]{}][^,:[\]{}]*)*)/.exec(
        text.slice(i),
      );
      if (!m) throw new YamlError(`line ${no}: bad flow item`);
      i += m[0].length;
      return scalarOrFlow(m[0], no);
    };
    const v = item();
    ws();
    if (i !== text.length) throw new YamlError(`line ${no}: text after flow collection`);
    return v;
  };

  const node = (parentIndent: number, allowSeqAtParent: boolean): YamlValue => {
    const l = peek();
    if (l === undefined) return null;
    const isSeq = l.text === "-" || l.text.startsWith("- ");
    if (l.indent > parentIndent || (allowSeqAtParent && isSeq && l.indent === parentIndent)) {
      return isSeq ? sequence(l.indent) : mapping(l.indent);
    }
    return null;
  };

  const mapping = (indent: number): YamlValue => {
    const out: Record<string, YamlValue> = {};
    for (;;) {
      const l = peek();
      if (l === undefined || l.indent < indent) return out;
      if (l.indent > indent) throw new YamlError(`line ${l.no}: unexpected indentation`);
      if (l.text === "-" || l.text.startsWith("- ")) return out;
      const m = KEY.exec(l.text);
      if (!m) throw new YamlError(`line ${l.no}: expected "key: value"`);
      const key = scalarOrFlow(m[1] as string, l.no);
      if (typeof key !== "string") throw new YamlError(`line ${l.no}: bad key`);
      if (key in out) throw new YamlError(`line ${l.no}: duplicate key "${key}"`);
      const rest = l.text.slice(m[0].length);
      pos += 1;
      out[key] = stripComment(rest) === "" ? node(indent, true) : inlineValue(rest, indent, l.no);
    }
  };

  const sequence = (indent: number): YamlValue => {
    const out: YamlValue[] = [];
    for (;;) {
      const l = peek();
      if (l === undefined || l.indent < indent) return out;
      if (l.indent > indent) throw new YamlError(`line ${l.no}: unexpected indentation`);
      if (!(l.text === "-" || l.text.startsWith("- "))) return out;
      const after = l.text.slice(1);
      const rest = after.trimStart();
      const col = indent + 1 + (after.length - rest.length);
      if (stripComment(rest) === "") {
        pos += 1;
        out.push(node(indent, false));
      } else if (KEY.test(rest)) {
        // "- key: value": a mapping whose keys sit at the column after the dash.
        raw[pos] = " ".repeat(col) + rest;
        out.push(mapping(col));
      } else if (rest === "-" || rest.startsWith("- ")) {
        raw[pos] = " ".repeat(col) + rest;
        out.push(sequence(col));
      } else {
        pos += 1;
        out.push(inlineValue(rest, indent, l.no));
      }
    }
  };

  const start = peek();
  if (start?.text === "---") pos += 1;
  const root = node(-1, true);
  const tail = peek();
  if (tail !== undefined)
    throw new YamlError(`line ${tail.no}: unexpected content (multi-document streams are not supported)`);
  return root;
}
