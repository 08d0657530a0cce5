/**
 * A parser for HCL's native syntax, enough of it to read every .tf and .pkr.hcl file in deploy/:
 * bodies of attributes and labelled blocks, and the whole expression grammar (templates with
 * interpolation, heredocs, tuples, objects, traversals, splats, function calls, operators,
 * conditionals, for-expressions). It keeps every expression's source text, and fails with the
 * file, line and column of anything it does not understand rather than guessing.
 */
import type { Block, Body, Expr, ObjectItem } from "./types.js";

const BINARY_PRECEDENCE: Record<string, number> = {
  "||": 1,
  "&&": 2,
  "==": 3,
  "!=": 3,
  "<": 4,
  ">": 4,
  "<=": 4,
  ">=": 4,
  "+": 5,
  "-": 5,
  "*": 6,
  "/": 6,
  "%": 6,
};
const OPERATORS = ["||", "&&", "==", "!=", "<=", ">=", "<", ">", "+", "-", "*", "/", "%"];

export class HclSyntaxError extends Error {}

export function parseHcl(src: string, file = "<input>"): Body {
  const p = new Parser(src, file);
  const body = p.body(null);
  return body;
}

class Parser {
  private pos = 0;
  /** Open brackets inside the current expression: newlines are insignificant inside them. */
  private depth = 0;

  constructor(
    private readonly src: string,
    private readonly file: string,
  ) {}

  body(close: "}" | null): Body {
    const attributes: Record<string, Expr> = {};
    const blocks: Block[] = [];
    for (;;) {
      this.skip(true);
      if (this.pos >= this.src.length) {
        if (close) this.fail(`expected "${close}" before the end of the file`);
        return { attributes, blocks };
      }
      if (close && this.peek() === close) {
        this.pos++;
        return { attributes, blocks };
      }
      const name = this.identifier();
      this.skip(false);
      if (this.peek() === "=" && this.src[this.pos + 1] !== "=") {
        this.pos++;
        if (name in attributes) this.fail(`attribute "${name}" is set twice`);
        const saved = this.depth;
        this.depth = 0;
        attributes[name] = this.expr();
        this.depth = saved;
        this.endOfLine();
        continue;
      }
      const labels: string[] = [];
      while (this.peek() !== "{") {
        if (this.peek() === '"') {
          const t = this.template('"');
          if (t.kind !== "literal" || typeof t.value !== "string")
            this.fail("block labels are plain strings");
          labels.push(t.value as string);
        } else labels.push(this.identifier());
        this.skip(false);
      }
      this.pos++;
      blocks.push({ type: name, labels, body: this.body("}") });
    }
  }

  expr(): Expr {
    const start = this.pos;
    const test = this.binary(0);
    const end = this.pos;
    this.skip(this.depth > 0);
    if (this.peek() !== "?") {
      this.pos = end;
      return test;
    }
    this.pos++;
    const then = this.expr();
    this.skip(this.depth > 0);
    this.expect(":");
    const otherwise = this.expr();
    return { kind: "conditional", test, then, otherwise, src: this.src.slice(start, this.pos) };
  }

  private binary(min: number): Expr {
    const start = this.pos;
    let left = this.unary();
    for (;;) {
      const end = this.pos;
      this.skip(this.depth > 0);
      const op = OPERATORS.find((o) => this.src.startsWith(o, this.pos));
      const prec = op ? BINARY_PRECEDENCE[op]! : 0;
      if (!op || prec <= min) {
        this.pos = end;
        return left;
      }
      this.pos += op.length;
      const right = this.binary(prec);
      left = { kind: "binary", op, left, right, src: this.src.slice(start, this.pos) };
    }
  }

  private unary(): Expr {
    this.skip(this.depth > 0);
    const start = this.pos;
    const c = this.peek();
    if (c === "!" || (c === "-" && !/[0-9]/.test(this.src[this.pos + 1] ?? ""))) {
      this.pos++;
      const operand = this.unary();
      return { kind: "unary", op: c, operand, src: this.src.slice(start, this.pos) };
    }
    return this.postfix(this.primary());
  }

  private postfix(target: Expr): Expr {
    const start = this.pos - target.src.length;
    for (;;) {
      const c = this.peek();
      if (c === "." && this.src[this.pos + 1] === "*") {
        this.pos += 2;
        target = { kind: "splat", target, src: this.src.slice(start, this.pos) };
      } else if (c === "." && /[A-Za-z_0-9]/.test(this.src[this.pos + 1] ?? "")) {
        this.pos++;
        const key = /[0-9]/.test(this.peek()) ? this.number().src : this.identifier();
        target = { kind: "attr", target, name: key, src: this.src.slice(start, this.pos) };
      } else if (c === "[") {
        this.pos++;
        this.depth++;
        this.skip(true);
        if (this.peek() === "*") {
          this.pos++;
          this.skip(true);
          this.expect("]");
          this.depth--;
          target = { kind: "splat", target, src: this.src.slice(start, this.pos) };
          continue;
        }
        const key = this.expr();
        this.skip(true);
        this.expect("]");
        this.depth--;
        target = { kind: "index", target, key, src: this.src.slice(start, this.pos) };
      } else return target;
    }
  }

  private primary(): Expr {
    this.skip(this.depth > 0);
    const start = this.pos;
    const c = this.peek();
    if (c === '"') return this.template('"');
    if (c === "<" && this.src.startsWith("<<", this.pos)) return this.heredoc();
    if (/[0-9-]/.test(c)) return this.number();
    if (c === "(") {
      this.pos++;
      this.depth++;
      const inner = this.expr();
      this.skip(true);
      this.expect(")");
      this.depth--;
      return { kind: "paren", inner, src: this.src.slice(start, this.pos) };
    }
    if (c === "[") return this.tupleOrFor();
    if (c === "{") return this.objectOrFor();
    const name = this.identifier();
    if (name === "true" || name === "false") return { kind: "literal", value: name === "true", src: name };
    if (name === "null") return { kind: "literal", value: null, src: name };
    if (this.peek() === "(") {
      this.pos++;
      this.depth++;
      const args: Expr[] = [];
      let expand = false;
      for (;;) {
        this.skip(true);
        if (this.peek() === ")") break;
        args.push(this.expr());
        this.skip(true);
        if (this.src.startsWith("...", this.pos)) {
          expand = true;
          this.pos += 3;
          this.skip(true);
        }
        if (this.peek() === ",") this.pos++;
        else if (this.peek() !== ")") this.fail(`expected "," or ")" in the arguments of ${name}()`);
      }
      this.pos++;
      this.depth--;
      return { kind: "call", name, args, expand, src: this.src.slice(start, this.pos) };
    }
    return { kind: "variable", name, src: name };
  }

  private tupleOrFor(): Expr {
    const start = this.pos;
    this.pos++;
    this.depth++;
    this.skip(true);
    if (this.keyword("for")) return this.forExpr(start, "]");
    const items: Expr[] = [];
    for (;;) {
      this.skip(true);
      if (this.peek() === "]") break;
      items.push(this.expr());
      this.skip(true);
      if (this.peek() === ",") this.pos++;
      else if (this.peek() !== "]") this.fail('expected "," or "]" in a tuple');
    }
    this.pos++;
    this.depth--;
    return { kind: "tuple", items, src: this.src.slice(start, this.pos) };
  }

  private objectOrFor(): Expr {
    const start = this.pos;
    this.pos++;
    this.depth++;
    this.skip(true);
    if (this.keyword("for")) return this.forExpr(start, "}");
    const items: ObjectItem[] = [];
    for (;;) {
      this.skip(true);
      if (this.peek() === "}") break;
      const key = this.expr();
      this.skip(true);
      if (this.peek() === "=" || this.peek() === ":") this.pos++;
      else this.fail('expected "=" after an object key');
      const value = this.expr();
      items.push({ key, value });
      this.skip(false);
      if (this.peek() === "," || this.peek() === "\n") this.pos++;
      else if (this.peek() !== "}") this.fail('expected ",", a newline or "}" in an object');
    }
    this.pos++;
    this.depth--;
    return { kind: "object", items, src: this.src.slice(start, this.pos) };
  }

  private forExpr(start: number, close: "]" | "}"): Expr {
    this.skip(true);
    const first = this.identifier();
    this.skip(true);
    let keyVar: string | null = null;
    let valueVar = first;
    if (this.peek() === ",") {
      this.pos++;
      this.skip(true);
      keyVar = first;
      valueVar = this.identifier();
      this.skip(true);
    }
    if (!this.keyword("in")) this.fail('expected "in" in a for expression');
    const collection = this.expr();
    this.skip(true);
    this.expect(":");
    let key: Expr | null = null;
    let value = this.expr();
    this.skip(true);
    if (close === "}") {
      if (!this.src.startsWith("=>", this.pos)) this.fail('expected "=>" in an object for expression');
      this.pos += 2;
      key = value;
      value = this.expr();
      this.skip(true);
    }
    let grouping = false;
    if (this.src.startsWith("...", this.pos)) {
      grouping = true;
      this.pos += 3;
      this.skip(true);
    }
    let condition: Expr | null = null;
    if (this.keyword("if")) condition = this.expr();
    this.skip(true);
    this.expect(close);
    this.depth--;
    return {
      kind: "for",
      keyVar,
      valueVar,
      collection,
      key,
      value,
      condition,
      grouping,
      src: this.src.slice(start, this.pos),
    };
  }

  /** A quoted template; `${…}` interpolations are expressions, `%{…}` directives are refused. */
  private template(quote: '"'): Expr {
    const start = this.pos;
    this.pos++;
    const parts: (string | Expr)[] = [];
    let text = "";
    for (;;) {
      const c = this.src[this.pos];
      if (c === undefined || c === "\n") this.fail("unterminated string");
      if (c === quote) break;
      if (c === "\\") {
        const n = this.src[this.pos + 1] ?? "";
        const map: Record<string, string> = { n: "\n", t: "\t", r: "\r", '"': '"', "\\": "\\" };
        if (n === "u") {
          text += String.fromCharCode(parseInt(this.src.slice(this.pos + 2, this.pos + 6), 16));
          this.pos += 6;
          continue;
        }
        if (!(n in map)) this.fail(`unknown escape \\${n}`);
        text += map[n];
        this.pos += 2;
        continue;
      }
      if ((c === "$" || c === "%") && this.src[this.pos + 1] === c && this.src[this.pos + 2] === "{") {
        text += `${c}{`;
        this.pos += 3;
        continue;
      }
      if (c === "%" && this.src[this.pos + 1] === "{")
        this.fail("template directives (%{…}) are not supported");
      if (c === "$" && this.src[this.pos + 1] === "{") {
        if (text) parts.push(text);
        text = "";
        this.pos += 2;
        this.depth++;
        this.skip(true);
        if (this.peek() === "~") this.pos++;
        parts.push(this.expr());
        this.skip(true);
        if (this.peek() === "~") this.pos++;
        this.expect("}");
        this.depth--;
        continue;
      }
      text += c;
      this.pos++;
    }
    this.pos++;
    if (text || parts.length === 0) parts.push(text);
    const src = this.src.slice(start, this.pos);
    if (parts.length === 1 && typeof parts[0] === "string") return { kind: "literal", value: parts[0], src };
    return { kind: "template", parts, src };
  }

  /** `<<EOT` / `<<-EOT` heredocs, kept as literal text (interpolation inside them is not read). */
  private heredoc(): Expr {
    const start = this.pos;
    const m = /^<<(-?)([A-Za-z_][A-Za-z0-9_]*)\n/.exec(this.src.slice(this.pos));
    if (!m) this.fail("malformed heredoc opener");
    const [opener, indent, tag] = m!;
    this.pos += opener.length;
    const lines: string[] = [];
    for (;;) {
      const eol = this.src.indexOf("\n", this.pos);
      if (eol < 0) this.fail(`heredoc ${tag} is not closed`);
      const line = this.src.slice(this.pos, eol);
      this.pos = eol + 1;
      if (line.trim() === tag) break;
      lines.push(line);
    }
    this.pos--;
    let text = lines;
    if (indent) {
      const cut = Math.min(...lines.filter((l) => l.trim()).map((l) => /^ */.exec(l)![0].length));
      text = lines.map((l) => l.slice(cut));
    }
    return { kind: "literal", value: text.join("\n") + "\n", src: this.src.slice(start, this.pos) };
  }

  private number(): Expr {
    const m = /^-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(this.src.slice(this.pos));
    if (!m) this.fail("expected a number");
    this.pos += m![0].length;
    return { kind: "literal", value: Number(m![0]), src: m![0] };
  }

  private identifier(): string {
    const m = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(this.src.slice(this.pos));
    if (!m) this.fail(`expected a name, found ${JSON.stringify(this.src.slice(this.pos, this.pos + 12))}`);
    this.pos += m![0].length;
    return m![0];
  }

  private keyword(word: string): boolean {
    const re = new RegExp(`^${word}(?![A-Za-z0-9_-])`);
    if (!re.test(this.src.slice(this.pos))) return false;
    this.pos += word.length;
    this.skip(true);
    return true;
  }

  /** Skips blanks and comments; newlines too when `newlines` (inside brackets). */
  private skip(newlines: boolean): void {
    for (;;) {
      const c = this.src[this.pos];
      if (c === " " || c === "\t" || c === "\r" || (newlines && c === "\n")) this.pos++;
      else if (c === "#" || (c === "/" && this.src[this.pos + 1] === "/")) {
        const eol = this.src.indexOf("\n", this.pos);
        this.pos = eol < 0 ? this.src.length : eol;
      } else if (c === "/" && this.src[this.pos + 1] === "*") {
        const end = this.src.indexOf("*/", this.pos + 2);
        if (end < 0) this.fail("unterminated /* comment");
        this.pos = end + 2;
      } else return;
    }
  }

  private endOfLine(): void {
    this.skip(false);
    const c = this.peek();
    if (c === "\n") this.pos++;
    else if (c !== "}" && this.pos < this.src.length)
      this.fail(`unexpected ${JSON.stringify(c)} after a value`);
  }

  private peek(): string {
    return this.src[this.pos] ?? "";
  }

  private expect(c: string): void {
    if (this.peek() !== c)
      this.fail(`expected "${c}", found ${JSON.stringify(this.peek() || "end of file")}`);
    this.pos++;
  }

  private fail(message: string): never {
    const before = this.src.slice(0, this.pos);
    const line = before.split("\n").length;
    const col = this.pos - before.lastIndexOf("\n");
    throw new HclSyntaxError(`${this.file}:${line}:${col}: ${message}`);
  }
}
