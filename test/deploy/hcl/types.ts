/** The syntax tree of an HCL file: what test/deploy/hcl/parse.ts produces. */

export interface Body {
  attributes: Record<string, Expr>;
  blocks: Block[];
}

export interface Block {
  type: string;
  labels: string[];
  body: Body;
}

export interface ObjectItem {
  key: Expr;
  value: Expr;
}

/** Every expression keeps `src`, its exact source text. */
export type Expr =
  | { kind: "literal"; value: string | number | boolean | null; src: string }
  | { kind: "template"; parts: (string | Expr)[]; src: string }
  | { kind: "tuple"; items: Expr[]; src: string }
  | { kind: "object"; items: ObjectItem[]; src: string }
  | { kind: "variable"; name: string; src: string }
  | { kind: "attr"; target: Expr; name: string; src: string }
  | { kind: "index"; target: Expr; key: Expr; src: string }
  | { kind: "splat"; target: Expr; src: string }
  | { kind: "call"; name: string; args: Expr[]; expand: boolean; src: string }
  | { kind: "paren"; inner: Expr; src: string }
  | { kind: "unary"; op: string; operand: Expr; src: string }
  | { kind: "binary"; op: string; left: Expr; right: Expr; src: string }
  | { kind: "conditional"; test: Expr; then: Expr; otherwise: Expr; src: string }
  | {
      kind: "for";
      keyVar: string | null;
      valueVar: string;
      collection: Expr;
      key: Expr | null;
      value: Expr;
      condition: Expr | null;
      grouping: boolean;
      src: string;
    };
