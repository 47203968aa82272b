import HOME from "../../operations/Home.graphql";
import { failure, isStaff, link, setTitle, type AppContext, type View } from "./app";
import { focusOn, h, replaceChildren, statusBadge, time } from "./dom";
import type { HomeData } from "./types";

/** My customers and their projects, with status. */
export function homeView(ctx: AppContext, main: HTMLElement): View {
  setTitle("Projects");
  replaceChildren(main, h("h1", { tabindex: -1 }, "Projects"), h("p", { class: "muted" }, "Loading…"));
  // an answer that comes after the reader went elsewhere must not replace that view
  let destroyed = false;
  const load = async (): Promise<void> => {
    try {
      const data = await ctx.session.request<HomeData>(HOME);
      if (destroyed) return;
      const customers = data.customers.edges.map((edge) => edge.node);
      // lead contacts invite for their own customer; the account team for theirs
      const mayInvite = (customer: (typeof customers)[number]): boolean =>
        isStaff(ctx.user)
          ? customer.accountTeam.some((member) => member.id === data.me.id)
          : data.me.role === "CUSTOMER_ADMIN" && data.me.customer?.id === customer.id;
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
            mayInvite(customer)
              ? h("p", {}, h("a", { href: link("invite", customer.id), class: "invite-link" }, `Invite a contact of ${customer.name}`))
              : null,
          );
        }),
      );
      main.querySelector("h1")?.focus();
    } catch (error) {
      if (destroyed) return;
      replaceChildren(
        main,
        h("h1", { tabindex: -1 }, "Projects"),
        failure(error, () => {
          replaceChildren(main, h("h1", { tabindex: -1 }, "Projects"), h("p", { class: "muted", role: "status" }, "Loading…"));
          focusOn(main.querySelector("h1"));
          void load();
        }),
      );
      focusOn(main.querySelector<HTMLElement>(".retry"));
    }
  };
  void load();
  return {
    destroy() {
      destroyed = true;
    },
  };
}
