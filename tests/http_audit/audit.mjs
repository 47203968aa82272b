// Runs The Guild's graphql-http server audit against the URL given as the only argument and
// prints one JSON line per audit: {id, name, status: "ok" | "warn" | "error", reason}.
import { auditServer } from "graphql-http";

const url = process.argv[2];
if (!url) {
  console.error("usage: node audit.mjs http://127.0.0.1:PORT/graphql");
  process.exit(2);
}
const results = await auditServer({ url });
for (const result of results) {
  const line = { id: result.id, name: result.name, status: result.status };
  if (result.status !== "ok") {
    line.reason = result.reason;
    line.response = result.response ? await result.response.text().catch(() => "") : "";
  }
  console.log(JSON.stringify(line));
}
