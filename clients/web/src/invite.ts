// Inviting a contact of a customer (#/invite/CUSTOMER_ID): the customer's lead contacts may
// invite addresses of its email domains, its account team any address. The invitation is
// mailed to the person, whose link opens #/invitation/TOKEN to choose a password (login.ts).

import INVITE_CONTACT from "../../operations/InviteContact.graphql";
import INVITE_FORM from "../../operations/InviteForm.graphql";
import { describe, failure, isNotFound, isStaff, setTitle, type AppContext, type View } from "./app";
import { absoluteTime, field, focusOn, h, notice, replaceChildren } from "./dom";
import { limitText, stripped, TITLE_MAX_LENGTH } from "./text";
import type { InviteFormData } from "./types";
import { confirmDiscard, keepUnsaved } from "./unsaved";

interface Invited {
  inviteContact: {
    invitation: { id: string; email: string; name: string; role: string; expiresAt: string };
  };
}

export function inviteView(ctx: AppContext, main: HTMLElement, customerId: string): View {
  let destroyed = false;
  let release: (() => void) | null = null;
  setTitle("Invite a contact");
  replaceChildren(main, h("p", { class: "muted" }, "Loading…"));

  async function load(): Promise<void> {
    let data: InviteFormData;
    try {
      data = await ctx.session.request<InviteFormData>(INVITE_FORM, { id: customerId });
    } catch (error) {
      if (destroyed) return;
      replaceChildren(
        main,
        h("h1", { tabindex: -1 }, "Invite a contact"),
        isNotFound(error) ? notice("error", "No customer with that ID exists, or you may not see it.") : failure(error, () => void load()),
      );
      focusOn(main.querySelector<HTMLElement>(".retry") ?? main.querySelector("h1"));
      return;
    }
    if (destroyed) return;
    const customer = data.customer;
    if (!customer) {
      replaceChildren(main, h("h1", { tabindex: -1 }, "Invite a contact"), notice("error", "No customer with that ID exists."));
      return;
    }
    setTitle(`Invite a contact of ${customer.name}`);
    showForm(customer);
  }

  function showForm(customer: NonNullable<InviteFormData["customer"]>): void {
    const name = h("input", { type: "text", name: "name", required: true, autocomplete: "off" });
    const nameCount = limitText(name, TITLE_MAX_LENGTH);
    const email = h("input", { type: "email", name: "email", required: true, autocomplete: "off" });
    const domains = customer.emailDomains.join(", ");
    const emailHint = isStaff(ctx.user)
      ? "Any address: you are on the account team."
      : customer.emailDomains.length
        ? `An address of ${domains}.`
        : "Your organisation has no email domains yet: ask your account team to invite.";
    const role = h(
      "select",
      { name: "role" },
      h("option", { value: "CUSTOMER_MEMBER" }, "Contact: the projects chosen below"),
      h("option", { value: "CUSTOMER_ADMIN" }, "Lead contact: all projects and budgets; may invite others"),
    );
    const projects = customer.projects.edges.map((edge) =>
      h(
        "div",
        { class: "check" },
        h("input", { type: "checkbox", name: "project", value: edge.node.id, id: `invite-project-${edge.node.id}` }),
        h("label", { for: `invite-project-${edge.node.id}` }, edge.node.name),
      ),
    );
    const feedback = h("div");
    release?.();
    release = keepUnsaved(() => stripped(name.value) !== "" || stripped(email.value) !== "");
    let busy = false;
    const form = h(
      "form",
      {
        class: "panel invite-form",
        "aria-labelledby": "invite-heading",
        onsubmit: async (event: Event) => {
          event.preventDefault();
          if (busy) return;
          busy = true;
          replaceChildren(feedback);
          try {
            const data = await ctx.session.request<Invited>(INVITE_CONTACT, {
              customerId: customer.id,
              name: stripped(name.value),
              email: email.value.trim(),
              role: role.value,
              projectIds: [...form.querySelectorAll<HTMLInputElement>('input[name="project"]:checked')].map((box) => box.value),
            });
            release?.();
            release = null;
            showDone(customer, data.inviteContact);
          } catch (error) {
            replaceChildren(feedback, notice("error", describe(error)));
            focusOn(feedback.firstElementChild as HTMLElement | null);
          } finally {
            busy = false;
          }
        },
      },
      field("Name", name),
      nameCount,
      field("Email", email, emailHint),
      field("Role", role),
      projects.length
        ? h("fieldset", { class: "projects" }, h("legend", {}, "Projects they join"), projects)
        : null,
      h(
        "div",
        { class: "row" },
        h("button", { type: "submit" }, "Invite"),
        h(
          "a",
          {
            href: "#/",
            onclick: (event: Event) => {
              const dirty = stripped(name.value) !== "" || stripped(email.value) !== "";
              if (!confirmDiscard(dirty)) {
                event.preventDefault();
                return;
              }
              release?.();
              release = null;
            },
          },
          "Cancel",
        ),
      ),
      feedback,
    );
    replaceChildren(
      main,
      h("nav", { class: "breadcrumb", "aria-label": "Breadcrumb" }, h("a", { href: "#/" }, "Projects"), " › ", customer.name),
      h("h1", { tabindex: -1, id: "invite-heading" }, `Invite a contact of ${customer.name}`),
      h(
        "p",
        { class: "lede" },
        "The invitation is mailed to them with a link that works once, for 14 days; their account exists once they open it and choose a password.",
      ),
      form,
    );
    main.querySelector("h1")?.focus();
  }

  function showDone(customer: NonNullable<InviteFormData["customer"]>, invited: Invited["inviteContact"]): void {
    const done = notice(
      "success",
      `${invited.invitation.name} (${invited.invitation.email}) is invited: the invitation is on its way by mail. Its link works once, until ${absoluteTime(invited.invitation.expiresAt)}.`,
    );
    replaceChildren(
      main,
      h("nav", { class: "breadcrumb", "aria-label": "Breadcrumb" }, h("a", { href: "#/" }, "Projects"), " › ", customer.name),
      h("h1", { tabindex: -1 }, `Invite a contact of ${customer.name}`),
      done,
      h(
        "p",
        {},
        h("button", { type: "button", class: "link", onclick: () => showForm(customer) }, "Invite someone else"),
        " · ",
        h("a", { href: "#/" }, "Back to your projects"),
      ),
    );
    focusOn(done);
  }

  void load();
  return {
    destroy() {
      destroyed = true;
      release?.();
    },
  };
}
