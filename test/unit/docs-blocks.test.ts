// The docs checker's reading of a page (test/docs/blocks.ts): which blocks run, as what, and the markers.
import { describe, expect, it } from "vitest";
import { ConventionError, onPort, parseBlocks } from "../docs/blocks.js";

const page = (...lines: string[]) => lines.join("\n");

describe("parseBlocks", () => {
  it("runs sh and ts, writes file blocks, skips the rest, and keeps each block's line", () => {
    const blocks = parseBlocks(
      "p.md",
      page("# T", "", "```sh", "echo hi", "```", "", "<!-- docs: file a/b.go -->", "", "```go", "package main", "```", "```text", "out", "```", "1. item", "   ```ts", "   console.log(1);", "   ```"),
    );
    expect(blocks.map((b) => [b.line, b.action.kind])).toEqual([
      [3, "sh"],
      [9, "file"],
      [12, "skip"],
      [16, "ts"],
    ]);
    expect(blocks[1]!.action).toEqual({ kind: "file", path: "a/b.go" });
    expect(blocks[3]!.code).toBe("console.log(1);\n");
  });

  it("a server block gives its variables; skip needs a reason; go without a file is refused", () => {
    const [server] = parseBlocks("p.md", page("<!-- docs: server -->", "```sh", "A=1 B='x y' npm start", "```"));
    expect(server!.action).toEqual({ kind: "server", env: { A: "1", B: "x y" } });
    expect(() => parseBlocks("p.md", page("<!-- docs: skip -->", "```sh", "x", "```"))).toThrow(ConventionError);
    expect(() => parseBlocks("p.md", page("```go", "package main", "```"))).toThrow(/p\.md:1: a go block must be written to a file/);
    expect(() => parseBlocks("p.md", page("<!-- docs: file ../x -->", "```go", "x", "```"))).toThrow(/inside the repository/);
    expect(() => parseBlocks("p.md", page("```sh", "x"))).toThrow(/never closed/);
  });

  it("a marker applies only to the block right after it", () => {
    const blocks = parseBlocks("p.md", page("<!-- docs: skip why -->", "text between", "```sh", "x", "```"));
    expect(blocks[0]!.action.kind).toBe("sh");
  });

  it("port 8080 on loopback becomes the checker's port", () => {
    expect(onPort("curl http://127.0.0.1:8080/x localhost:8080 10.0.0.1:8080 127.0.0.1:80801", 4242, 4343)).toBe("curl http://127.0.0.1:4242/x localhost:4242 10.0.0.1:8080 127.0.0.1:80801");
    expect(onPort(`.listen(9000, "127.0.0.1") --endpoint http://127.0.0.1:9000/hooks 127.0.0.1:90001`, 4242, 4343)).toBe(`.listen(4343, "127.0.0.1") --endpoint http://127.0.0.1:4343/hooks 127.0.0.1:90001`);
  });
});
