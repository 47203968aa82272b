// Finding things: full-text search over pages, posts, attachments and requests (#/search/QUERY), the
// posts of a #topic (#/topics/NAME) and a person mentioned with @handle (#/people/ID).

import PERSON from "../../operations/Person.graphql";
import SEARCH from "../../operations/Search.graphql";
import TOPIC_POSTS from "../../operations/TopicPosts.graphql";
import { failure, isNotFound, link, setTitle, type AppContext, type View } from "./app";
import { field, focusOn, h, linkReferences, replaceChildren, serverHtml, shortTime, time } from "./dom";
import { requestStatusBadge } from "./requests";
import type { PersonData, SearchData, TopicPostsData } from "./types";

type Hit = NonNullable<SearchData["search"]>["edges"][number]["node"];

function describeHit(hit: Hit): { title: string; href: string; where: (Node | string)[]; kind: string } {
  const item = hit.node;
  switch (item.__typename) {
    case "Page":
      return {
        kind: "Page",
        title: item.title,
        href: link("pages", item.id),
        where: ["in ", h("a", { href: link("projects", item.project.id) }, item.project.name)],
      };
    case "Micropost":
      return {
        kind: item.page ? "Comment" : "Post",
        title: `${item.author.name}'s ${item.page ? "comment" : "post"}`,
        href: link("posts", item.id),
        where: [
          time(item.createdAt),
          item.page ? [" on ", h("a", { href: link("pages", item.page.id) }, item.page.title)] : "",
          " in ",
          h("a", { href: link("projects", item.project.id) }, item.project.name),
        ].flat(),
      };
    case "Attachment":
      return {
        kind: "Attachment",
        title: item.name,
        href: link("pages", item.attachmentPage.id),
        where: [
          "on ",
          h("a", { href: link("pages", item.attachmentPage.id) }, item.attachmentPage.title),
          " in ",
          h("a", { href: link("projects", item.attachmentPage.project.id) }, item.attachmentPage.project.name),
        ],
      };
    case "Request":
      return {
        kind: "Request",
        title: `${item.number} ${item.title}`,
        href: link("requests", item.id),
        where: [requestStatusBadge(item.status), ` for ${item.customer.name}`],
      };
  }
}

/** A "Show more" button under a list that loads the next page and focuses its first item. */
function moreButton(
  slot: HTMLElement,
  label: string,
  pageInfo: { hasNextPage: boolean; endCursor: string | null } | undefined,
  next: (after: string) => Promise<HTMLElement | null>,
): void {
  if (!pageInfo?.hasNextPage || !pageInfo.endCursor) {
    replaceChildren(slot);
    return;
  }
  const after = pageInfo.endCursor;
  const button = h("button", { type: "button", class: "secondary" }, label);
  let busy = false;
  button.addEventListener("click", async () => {
    if (busy) return;
    busy = true;
    button.setAttribute("aria-disabled", "true");
    try {
      const first = await next(after);
      focusOn(first ?? slot.querySelector("button"));
    } catch (error) {
      busy = false;
      button.removeAttribute("aria-disabled");
      slot.append(failure(error));
    }
  });
  replaceChildren(slot, button);
}

export function searchView(ctx: AppContext, main: HTMLElement, query: string): View {
  let destroyed = false;
  const input = h("input", { type: "search", name: "q", required: true, autocomplete: "off" });
  input.value = query;
  const results = h("ol", { class: "search-results", "aria-label": "Results, best first" });
  const summary = h("p", { class: "muted", tabindex: -1 });
  const more = h("div");
  const form = h(
    "form",
    {
      role: "search",
      class: "panel search-form",
      onsubmit: (event: Event) => {
        event.preventDefault();
        const text = input.value.trim();
        if (!text) return;
        const target = link("search", text);
        if (window.location.hash === target) void run();
        else window.location.hash = target;
      },
    },
    h(
      "div",
      { class: "row" },
      field("Search pages, posts and attachments", input, "Every word must match; the last one may be the start of a word."),
      h("button", { type: "submit" }, "Search"),
    ),
  );
  setTitle(query ? `Search: ${query}` : "Search");
  replaceChildren(main, h("h1", { tabindex: -1 }, "Search"), form, summary, results, more);
  if (!query) {
    input.focus();
  } else {
    void run();
  }

  function item(hit: Hit): HTMLLIElement {
    const { title, href, where, kind } = describeHit(hit);
    return h(
      "li",
      { class: "search-result" },
      h("span", { class: "tag" }, kind),
      " ",
      h("a", { href, class: "result-title" }, title),
      " ",
      h("small", { class: "muted" }, ...where),
      serverHtml("snippet", hit.snippet),
    );
  }

  async function page(after: string | null): Promise<HTMLElement | null> {
    const data = await ctx.session.request<SearchData>(SEARCH, { query, after });
    if (destroyed || !data.search) return null;
    const items = data.search.edges.map((edge) => item(edge.node));
    results.append(...items);
    if (after === null) {
      const count = data.search.totalCount ?? items.length;
      replaceChildren(
        summary,
        count === 0
          ? `Nothing found for “${query}”. Try fewer or other words.`
          : `${count} ${count === 1 ? "result" : "results"} for “${query}”`,
      );
    }
    moreButton(more, "Show more results", data.search.pageInfo, page);
    return items[0] ?? null;
  }

  async function run(): Promise<void> {
    replaceChildren(results);
    replaceChildren(summary, "Searching…");
    try {
      await page(null);
      if (!destroyed) focusOn(summary);
    } catch (error) {
      if (destroyed) return;
      replaceChildren(summary, failure(error, () => void run()));
      focusOn(summary.querySelector<HTMLElement>(".retry") ?? summary);
    }
  }

  return {
    destroy() {
      destroyed = true;
    },
  };
}

export function topicView(ctx: AppContext, main: HTMLElement, name: string): View {
  let destroyed = false;
  const posts = h("ol", { class: "timeline", "aria-label": `Posts tagged #${name}, newest first` });
  const more = h("div");
  const state = h("div");
  setTitle(`#${name}`);
  replaceChildren(
    main,
    h("h1", { tabindex: -1 }, `#${name}`),
    h("p", { class: "muted" }, "Posts with this topic in the projects you may see, newest first. ",
      h("a", { href: link("search", `#${name}`) }, `Search for “${name}”`)),
    state,
    posts,
    more,
  );
  main.querySelector("h1")?.focus();

  async function page(after: string | null): Promise<HTMLElement | null> {
    const data = await ctx.session.request<TopicPostsData>(TOPIC_POSTS, { name, after });
    if (destroyed) return null;
    const topic = data.topic;
    if (!topic) {
      replaceChildren(state, h("p", {}, "No post has this topic yet."));
      return null;
    }
    const items = topic.microposts.edges.map(({ node: post }) => {
      const body = serverHtml("post-body markdown", post.bodyHtml);
      linkReferences(
        body,
        new Map(post.mentions.map((user) => [user.handle.toLowerCase(), link("people", user.id)])),
        new Map(post.topics.map((each) => [each.name, link("topics", each.name)])),
      );
      return h(
        "li",
        {},
        h(
          "article",
          { class: post.visibility === "INTERNAL" ? "post internal" : "post", "data-post-id": post.id },
          h(
            "header",
            {},
            h("strong", {}, post.author.name),
            " ",
            time(post.createdAt),
            " in ",
            h("a", { href: link("projects", post.project.id) }, post.project.name),
            post.visibility === "INTERNAL" ? h("span", { class: "tag internal" }, "Internal note: staff only") : null,
          ),
          body,
          h(
            "div",
            { class: "post-actions" },
            // one on each post: its name says which (several may be by the same person)
            h("a", { href: link("posts", post.id), "aria-label": `Open ${post.author.name}'s post of ${shortTime(post.createdAt)}` }, "Open"),
          ),
        ),
      );
    });
    if (after === null && items.length === 0) replaceChildren(state, h("p", {}, "No post has this topic yet."));
    posts.append(...items);
    moreButton(more, "Show older posts", topic.microposts.pageInfo, page);
    return items[0]?.querySelector("article") ?? null;
  }

  async function run(): Promise<void> {
    // "Try again" goes away: focus on the heading meanwhile, not on the page's body
    if (state.contains(document.activeElement)) focusOn(main.querySelector("h1"));
    replaceChildren(state);
    try {
      await page(null);
    } catch (error) {
      if (destroyed) return;
      replaceChildren(state, failure(error, () => void run()));
      focusOn(state.querySelector<HTMLElement>(".retry"));
    }
  }
  void run();
  return {
    destroy() {
      destroyed = true;
    },
  };
}

const ROLES: Record<string, string> = {
  ADMIN: "Administrator (provider)",
  STAFF: "Provider staff",
  CUSTOMER_ADMIN: "Lead contact",
  CUSTOMER_MEMBER: "Contact",
};

export function personView(ctx: AppContext, main: HTMLElement, id: string): View {
  let destroyed = false;
  setTitle("Person");
  replaceChildren(main, h("p", { class: "muted" }, "Loading…"));

  async function load(): Promise<void> {
    try {
      const data = await ctx.session.request<PersonData>(PERSON, { id });
      if (destroyed) return;
      const person = data.node;
      if (!person || !("handle" in person)) throw new Error("not a person");
      setTitle(person.name);
      replaceChildren(
        main,
        h("h1", { tabindex: -1 }, person.name),
        h(
          "dl",
          { class: "person panel" },
          h("dt", {}, "Mentioned as"),
          h("dd", {}, `@${person.handle}`),
          h("dt", {}, "Role"),
          h("dd", {}, ROLES[person.role] ?? person.role, person.customer ? ` of ${person.customer.name}` : ""),
          person.email ? [h("dt", {}, "Email"), h("dd", {}, h("a", { href: `mailto:${person.email}` }, person.email))] : null,
        ),
        h("p", {}, h("a", { href: link("search", person.handle) }, `Search for posts that mention ${person.name}`)),
      );
      main.querySelector("h1")?.focus();
    } catch (error) {
      if (destroyed) return;
      const missing = isNotFound(error) || (error instanceof Error && error.message === "not a person");
      replaceChildren(
        main,
        h("h1", { tabindex: -1 }, missing ? "Person not found" : "Person"),
        missing ? h("p", {}, "No person with that ID exists, or you may not see them.") : failure(error, () => void load()),
      );
      focusOn(main.querySelector<HTMLElement>(".retry") ?? main.querySelector("h1"));
    }
  }
  void load();
  return {
    destroy() {
      destroyed = true;
    },
  };
}
