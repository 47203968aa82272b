import HOME from "../../operations/Home.graphql";
import { describe, link, type AppContext, type View } from "./app";
import { h, notice, replaceChildren, statusBadge, time } from "./dom";
import type { HomeData } from "./types";

/** My customers and their projects, with status. */
export function homeView(ctx: AppContext, main: HTMLElement): View {
  replaceChildren(main, h("h1", { tabindex: -1 }, "Projects"), h("p", { class: "muted" }, "Loading…"));
  // an answer that comes after the reader went elsewhere must not replace that view
  let destroyed = false;
  void (async () => {
    try {
      const data = await ctx.session.request<HomeData>(HOME);
      if (destroyed) return;
      const customers = data.customers.edges.map((edge) => edge.node);
      replaceChildren(
        main,
        h("h1", { tabindex: -1 }, "Projects"),
        customers.length === 0 ? h("p", {}, "There are no projects for you yet.") : null,
        customers.map((customer) => {
          const projects = customer.projects.edges.map((edge) => edge.node);
          const more = (customer.projects.totalCount ?? 0) - projects.length;
          return h(
            "section",
            { class: "customer", "aria-label": customer.name },
            h("h2", {}, customer.name),
            projects.length === 0
              ? h("p", { class: "muted" }, "No projects you may see.")
              : h(
                  "ul",
                  { class: "project-list" },
                  projects.map((project) =>
                    h(
                      "li",
                      {},
                      h("a", { href: link("projects", project.id) }, project.name),
                      statusBadge(project.status),
                      h("small", { class: "muted" }, "updated ", time(project.updatedAt)),
                    ),
                  ),
                ),
            more > 0 ? h("p", { class: "muted" }, `and ${more} more`) : null,
          );
        }),
      );
      main.querySelector("h1")?.focus();
    } catch (error) {
      if (!destroyed) replaceChildren(main, h("h1", {}, "Projects"), notice("error", describe(error)));
    }
  })();
  return {
    destroy() {
      destroyed = true;
    },
  };
}
