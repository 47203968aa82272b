// The document a client sends for an operation file of clients/operations: its text, then
// the text of each fragment it spreads and does not define (<Fragment>.graphql beside it,
// spreads of spreads included) in the order of the fragments' names, one blank line between
// them: as clients/python/extranet_client/operations.py (the terminal client, the server)
// assembles it, byte for byte (tests/test_client_operations.py compares them).
import { readFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

// `...Name` (not `... on Type`) and `fragment Name on`, read outside comments and strings
const SPREAD = /\.\.\.\s*([_A-Za-z][_0-9A-Za-z]*)/g;
const DEFINITION = /\bfragment\s+([_A-Za-z][_0-9A-Za-z]*)\s+on\b/g;

// the fragments a document spreads and does not define
function spreads(text) {
  const code = text.replace(/"""[\s\S]*?"""|"(?:\\.|[^"\\\n])*"|#[^\n\r]*/g, "");
  const defined = new Set([...code.matchAll(DEFINITION)].map((match) => match[1]));
  return [...code.matchAll(SPREAD)]
    .map((match) => match[1])
    .filter((name) => name !== "on" && !defined.has(name));
}

export async function operationDocument(path) {
  const name = basename(path, ".graphql");
  const texts = new Map([[name, await readFile(path, "utf8")]]);
  const pending = spreads(texts.get(name));
  while (pending.length > 0) {
    const fragment = pending.pop();
    if (texts.has(fragment)) continue;
    const text = await readFile(join(dirname(path), `${fragment}.graphql`), "utf8");
    texts.set(fragment, text);
    pending.push(...spreads(text));
  }
  const fragments = [...texts.keys()].filter((key) => key !== name).sort();
  return [name, ...fragments].map((key) => texts.get(key).replace(/\n+$/, "") + "\n").join("\n");
}
