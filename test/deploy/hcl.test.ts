/** The offline HCL reader the deploy tests rest on: what it accepts, evaluates and refuses. */
import { describe, expect, it } from "vitest";
import { Evaluator, HclSyntaxError, Unknown, parseHcl, spell } from "./hcl/index.js";

const ev = new Evaluator({ var: { name: "demo", n: 3, list: ["a", "b"], on: true } }, ".");
const expr = (src: string) => ev.eval(parseHcl(`x = ${src}\n`).attributes["x"]!);

describe("HCL parser", () => {
  it("reads attributes, labelled and nested blocks, comments and heredocs", () => {
    const body = parseHcl(`
# comment
resource "aws_x" "y" { // trailing
  a = 1 /* inline */
  inner {
    b = <<-EOT
      hello
        world
    EOT
  }
}
`);
    const [blk] = body.blocks;
    expect(blk!.labels).toEqual(["aws_x", "y"]);
    expect(blk!.body.attributes["a"]?.src).toBe("1");
    const heredoc = ev.eval(blk!.body.blocks[0]!.body.attributes["b"]!);
    expect(heredoc).toBe("hello\n  world\n");
  });

  it("evaluates templates, operators, conditionals, for-expressions and functions", () => {
    expect(expr('"${var.name}-pool"')).toBe("demo-pool");
    expect(expr("var.n * 2 + 1 == 7 && !false")).toBe(true);
    expect(expr('var.on ? "yes" : "no"')).toBe("yes");
    expect(expr('[for s in var.list : upper(s) if s != "b"]')).toEqual(["A"]);
    expect(expr("{ for i, s in var.list : s => i }")).toEqual({ a: 0, b: 1 });
    expect(expr('join(",", concat(var.list, ["c"]))')).toBe("a,b,c");
    expect(expr('element(split("/", "arn:x/cluster/name"), 1)')).toBe("cluster");
    expect(expr('coalesce(null, "", "z")')).toBe("z");
  });

  it("keeps what only AWS knows as an Unknown that names the reference", () => {
    const v = expr('"arn:${aws_iam_role.r.arn}/x"');
    expect(v).toBe("arn:${aws_iam_role.r.arn}/x");
    const u = expr("aws_ecs_cluster.this[0].name");
    expect(u).toBeInstanceOf(Unknown);
    expect(spell(u)).toBe("${aws_ecs_cluster.this[0].name}");
    expect(expr("aws_x.y.id == null ? 1 : 2")).toBeInstanceOf(Unknown);
  });

  it("refuses what it cannot read, naming the file, line and column", () => {
    expect(() => parseHcl('a = "open\n', "f.tf")).toThrow(HclSyntaxError);
    expect(() => parseHcl('a = "open\n', "f.tf")).toThrow(/^f\.tf:1:\d+: unterminated string/);
    expect(() => parseHcl("b {\n  c = [1, 2\n}\n", "g.tf")).toThrow(/^g\.tf:3:1: expected "," or "]"/);
    expect(() => parseHcl("a = 1\na = 2\n", "h.tf")).toThrow(/h\.tf:2:\d+: attribute "a" is set twice/);
    expect(() => expr('"%{ if true }x%{ endif }"')).toThrow(/directives/);
  });

  it("refuses to evaluate a function it does not know rather than guess", () => {
    expect(() => expr('cidrsubnet("10.0.0.0/16", 8, 1)')).toThrow(/cidrsubnet\(\) is not known/);
    expect(() => expr("var.missing")).toThrow(/no attribute "missing"/);
  });
});
