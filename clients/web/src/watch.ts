// Watch or unwatch a project or page at a level; shows the level that applies now, which
// may be inherited from the customer or the project.

import UNWATCH from "../../operations/Unwatch.graphql";
import WATCH from "../../operations/Watch.graphql";
import WATCH_LEVEL from "../../operations/WatchLevel.graphql";
import { describe, type AppContext } from "./app";
import { h, notice, replaceChildren } from "./dom";
import type { WatchLevel } from "./types";

const LEVELS: [WatchLevel, string][] = [
  ["WATCHING", "Watching: everything"],
  ["PARTICIPATING", "Participating: mentions, replies, my own"],
  ["MUTED", "Muted: nothing"],
];

function levelText(level: WatchLevel | null): string {
  if (level === null) return "Not watching";
  return LEVELS.find(([value]) => value === level)?.[1].split(":")[0] ?? level;
}

export function watchControl(
  ctx: AppContext,
  targetId: string,
  level: WatchLevel | null,
  what: "project" | "page",
): HTMLElement {
  const current = h("strong", { "data-testid": "watch-level" }, levelText(level));
  const select = h(
    "select",
    { name: "level", "aria-label": `Watch level for this ${what}` },
    LEVELS.map(([value, text]) => h("option", { value, selected: value === (level ?? "WATCHING") }, text)),
  );
  const message = h("div", { "aria-live": "polite" });
  const unwatch = h("button", { type: "button", class: "secondary" }, "Unwatch");

  async function run(change: () => Promise<unknown>): Promise<void> {
    replaceChildren(message);
    try {
      await change();
      const data = await ctx.session.request<{ node: { viewerWatchLevel: WatchLevel | null } | null }>(
        WATCH_LEVEL,
        { id: targetId },
      );
      const now = data.node?.viewerWatchLevel ?? null;
      replaceChildren(current, levelText(now));
    } catch (error) {
      replaceChildren(message, notice("error", describe(error)));
    }
  }

  const form = h(
    "form",
    {
      class: "watch",
      onsubmit: (event: Event) => {
        event.preventDefault();
        void run(() => ctx.session.request(WATCH, { targetId, level: select.value }));
      },
    },
    h("p", {}, "Now: ", current, h("small", {}, " (your own watch, or one inherited)")),
    h("div", { class: "row" }, select, h("button", { type: "submit" }, "Watch"), unwatch),
    message,
  );
  unwatch.addEventListener("click", () => {
    void run(() => ctx.session.request(UNWATCH, { targetId }));
  });
  return h("section", { class: "panel", "aria-label": `Follow this ${what}` }, h("h2", {}, "Follow"), form);
}
