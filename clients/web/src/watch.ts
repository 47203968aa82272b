// Watch or unwatch a project or page at a level. Shows the level that applies now and where
// it comes from: your own watch here, or one inherited from the project or the customer.
// "Unwatch" on an inherited watch explains where it comes from and offers to mute this one
// or to unwatch at the source, instead of doing nothing.

import UNWATCH from "../../operations/Unwatch.graphql";
import WATCH from "../../operations/Watch.graphql";
import WATCH_SOURCE from "../../operations/WatchSource.graphql";
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

interface Holder {
  id: string;
  name: string;
}

interface WatchSourceData {
  node: {
    id: string;
    viewerWatchLevel: WatchLevel | null;
    customer?: Holder;
    project?: Holder & { customer: Holder };
  } | null;
  watches: {
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
    edges: { node: { id: string; level: WatchLevel; target: { id?: string } | null } }[];
  };
}

/** Where the level that applies here comes from. */
interface Source {
  level: WatchLevel | null;
  /** The level of your own watch on this project or page, if you set one. */
  own: WatchLevel | null;
  /** The project or customer whose watch applies here, when it is not your own one. */
  inherited: (Holder & { kind: "project" | "customer"; level: WatchLevel }) | null;
}

async function readSource(ctx: AppContext, targetId: string): Promise<Source> {
  const own = new Map<string, WatchLevel>();
  let after: string | null = null;
  let node: WatchSourceData["node"] = null;
  for (let pages = 0; pages < 20; pages++) {
    const data: WatchSourceData = await ctx.session.request<WatchSourceData>(WATCH_SOURCE, { id: targetId, after });
    node = data.node;
    for (const { node: watch } of data.watches.edges) if (watch.target?.id) own.set(watch.target.id, watch.level);
    if (!data.watches.pageInfo.hasNextPage) break;
    after = data.watches.pageInfo.endCursor;
  }
  const chain: (Holder & { kind: "project" | "customer" })[] = [];
  if (node?.project) chain.push({ ...node.project, kind: "project" }, { ...node.project.customer, kind: "customer" });
  else if (node?.customer) chain.push({ ...node.customer, kind: "customer" });
  const mine = own.get(targetId) ?? null;
  let inherited: Source["inherited"] = null;
  if (mine === null) {
    const holder = chain.find((candidate) => own.has(candidate.id));
    if (holder) inherited = { ...holder, level: own.get(holder.id)! };
  }
  return { level: node?.viewerWatchLevel ?? null, own: mine, inherited };
}

export function watchControl(
  ctx: AppContext,
  targetId: string,
  level: WatchLevel | null,
  what: "project" | "page",
): HTMLElement {
  const current = h("strong", { "data-testid": "watch-level" }, levelText(level));
  const origin = h("span", { "data-testid": "watch-source" });
  const select = h(
    "select",
    { name: "level", "aria-label": `Watch level for this ${what}` },
    LEVELS.map(([value, text]) => h("option", { value, selected: value === (level ?? "WATCHING") }, text)),
  );
  const message = h("div", { class: "watch-message" });
  const unwatch = h("button", { type: "button", class: "secondary" }, "Unwatch");
  let source: Source = { level, own: null, inherited: null };

  function describeSource(): string {
    if (source.own !== null) return ` (your own watch on this ${what})`;
    if (source.inherited) {
      return ` (from your watch on the ${source.inherited.kind} “${source.inherited.name}”)`;
    }
    return "";
  }

  async function refresh(): Promise<void> {
    source = await readSource(ctx, targetId);
    replaceChildren(current, levelText(source.level));
    replaceChildren(origin, describeSource());
  }

  /** A message the user is taken to: focus moves there, and it is announced. */
  function say(kind: "info" | "success" | "error", ...text: (Node | string)[]): void {
    const shown = notice(kind, ...text);
    shown.tabIndex = -1;
    replaceChildren(message, shown);
    shown.focus();
  }

  async function run(change: () => Promise<unknown>, done: () => string): Promise<void> {
    try {
      await change();
      await refresh();
      say("success", done());
    } catch (error) {
      say("error", describe(error));
    }
  }

  function offerInherited(from: NonNullable<Source["inherited"]>): void {
    const whose = `the ${from.kind} “${from.name}”`;
    say(
      "info",
      h("span", {}, `You do not watch this ${what} itself: you hear of it because you watch ${whose}. `),
      h(
        "span",
        { class: "row" },
        h(
          "button",
          {
            type: "button",
            onclick: () =>
              void run(
                () => ctx.session.request(WATCH, { targetId, level: "MUTED" }),
                () => `This ${what} is muted: you hear nothing of it, and still watch ${whose}.`,
              ),
          },
          `Mute this ${what}`,
        ),
        h(
          "button",
          {
            type: "button",
            class: "secondary",
            onclick: () =>
              void run(
                () => ctx.session.request(UNWATCH, { targetId: from.id }),
                () => `You no longer watch ${whose}.${stillText()}`,
              ),
          },
          `Unwatch ${whose}`,
        ),
      ),
    );
  }

  function stillText(): string {
    if (source.level === null) return ` You are not watching this ${what}.`;
    return ` Here you are now: ${levelText(source.level).toLowerCase()}${describeSource()}.`;
  }

  const form = h(
    "form",
    {
      class: "watch",
      onsubmit: (event: Event) => {
        event.preventDefault();
        const chosen = select.value;
        void run(
          () => ctx.session.request(WATCH, { targetId, level: chosen }),
          () => `Saved: ${levelText(chosen as WatchLevel).toLowerCase()} on this ${what}.`,
        );
      },
    },
    h("p", {}, "Now: ", current, origin),
    h("div", { class: "row" }, select, h("button", { type: "submit" }, "Watch"), unwatch),
    message,
  );
  unwatch.addEventListener("click", async () => {
    try {
      await refresh();
    } catch (error) {
      say("error", describe(error));
      return;
    }
    if (source.own !== null) {
      void run(
        () => ctx.session.request(UNWATCH, { targetId }),
        () => `You no longer watch this ${what} yourself.${stillText()}`,
      );
    } else if (source.inherited) {
      offerInherited(source.inherited);
    } else {
      say("info", `You are not watching this ${what}.`);
    }
  });
  void refresh().catch(() => {
    // the level shown stays the one the view loaded; a later action reads it again
  });
  return h(
    "section",
    { class: "panel", "aria-labelledby": `follow-${what}-heading` },
    h("h2", { id: `follow-${what}-heading` }, `Follow this ${what}`),
    form,
  );
}
