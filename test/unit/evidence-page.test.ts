import { describe, expect, it } from "vitest";
import { embedJson, escapeHtml, renderEvidencePage } from "../../src/core/evidence/page";
import { evidenceWorld } from "./support/evidence-world";

const embedded = (html: string) => {
  const m = /<script type="application\/json" id="evidence-data">([\s\S]*?)<\/script>/.exec(html);
  return m?.[1] ?? "";
};

describe("the evidence page", () => {
  it("escapes every character that could open markup or leave an attribute", () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&</a>`)).toBe(
      "&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;",
    );
  });

  it("renders an actor or a reason holding <script> as text, and no script but its own two", async () => {
    const world = await evidenceWorld();
    const doc = await world.evidence("2030-03-01", "2030-03-03");
    const [secret] = doc.secrets;
    if (!secret) throw new Error("no secret");
    // A secret id and a reason from the audit that hold markup, as a hostile writer would put them.
    const hostile = {
      ...doc,
      secrets: [{ ...secret, secretId: `<img src=x onerror=alert(1)>"'` }],
    };

    const html = renderEvidencePage(hostile);

    expect(html).not.toContain('<script>alert("x")');
    expect(html).not.toContain("<img src=x");
    expect(html).toContain("approver/&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
    expect(html).toContain("&lt;img src=x onerror=alert(1)&gt;&quot;&#39;");
    expect(html.match(/<script/g)).toHaveLength(2);
    // The embedded data cannot close its block, and reads back unchanged.
    expect(embedded(html)).not.toMatch(/<\/?script/i);
    expect(JSON.parse(embedded(html))).toEqual(hostile);
  });

  it("is self-contained: nothing fetched, no link, no font, and a policy that forbids fetching", async () => {
    const world = await evidenceWorld();

    const html = renderEvidencePage(await world.evidence("2030-03-01", "2030-03-03"));

    expect(html).not.toMatch(/\s(src|href)\s*=/i);
    expect(html).not.toMatch(/<link|@import|url\(|@font-face/i);
    expect(html).not.toMatch(/https?:\/\//i);
    expect(html).toContain(
      `content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'"`,
    );
  });

  it("shows each rotation in order with its steps, and leaves the script's count empty", async () => {
    const world = await evidenceWorld();

    const html = renderEvidencePage(await world.evidence("2030-03-01", "2030-03-03"));

    expect([...html.matchAll(/<li class="rotation" data-rotation-id="([^"]*)"/g)].map((m) => m[1])).toEqual([
      "rot-1",
      "rot-2",
    ]);
    expect(html.match(/<tr class="event /g)).toHaveLength(13);
    expect(html).toContain('<strong id="rotation-count"></strong>');
    expect(html).toContain('<body data-script="pending">');
  });

  it("embeds JSON that no U+2028, `<`, `>` or `&` can break out of", () => {
    expect(embedJson({ a: "</script><!--&\u2028" })).toBe(
      '{"a":"\\u003c/script\\u003e\\u003c!--\\u0026\\u2028"}',
    );
  });
});
