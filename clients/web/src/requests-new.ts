// "New request" (#/requests/new): a contact chooses one of the request types offered to
// their customer, and its form is rendered from its definition (requests-form.ts) under a
// title and an optional project. The server validates the submission: every problem it
// names (`extensions.field`) is shown next to its field and listed above the form, with
// links to the fields; nothing typed is lost, and leaving with unsaved answers asks first.

import NEW_REQUEST from "../../operations/NewRequest.graphql";
import SUBMIT_REQUEST from "../../operations/SubmitRequest.graphql";
import { describe, failure, link, setTitle, type AppContext, type View } from "./app";
import { announce, field, focusOn, h, notice, replaceChildren } from "./dom";
import { RequestForm } from "./requests-form";
import { errorSummary, FieldError, fieldProblems, formOf, type RequestTypeData } from "./requests";
import { limitText, stripped, TITLE_MAX_LENGTH } from "./text";
import type { Connection } from "./types";
import { confirmDiscard, keepUnsaved } from "./unsaved";

interface NewRequestData {
  me: { id: string; name: string; email: string | null; customer: { id: string; name: string } | null };
  customers: Connection<{ id: string; name: string; projects: Connection<{ id: string; name: string }> }>;
  requestTypes: RequestTypeData[];
}

interface SubmitData {
  submitRequest: { request: { id: string; number: string; title: string } };
}

/** A value the product already knows, for a field whose `prefill` names its source. */
function known(source: unknown, data: NewRequestData, project: { id: string; name: string } | null): unknown {
  if (typeof source !== "string") return undefined;
  const key = source.toLowerCase();
  const customer = data.me.customer ?? data.customers.edges[0]?.node ?? null;
  const values: Record<string, unknown> = {
    "contact.name": data.me.name,
    "requester.name": data.me.name,
    "user.name": data.me.name,
    "contact.email": data.me.email,
    "requester.email": data.me.email,
    "user.email": data.me.email,
    "customer.name": customer?.name,
    customer: customer?.name,
    "project.name": project?.name,
    project: project?.name,
    today: new Date(Date.now() - new Date().getTimezoneOffset() * 60_000).toISOString().slice(0, 10),
  };
  return values[key] ?? undefined;
}

export function newRequestView(ctx: AppContext, main: HTMLElement): View {
  setTitle("New request");
  let destroyed = false;
  let release: (() => void) | null = null;
  replaceChildren(main, h("h1", { tabindex: -1 }, "New request"), h("p", { class: "muted", role: "status" }, "Loading…"));

  async function load(): Promise<void> {
    let data: NewRequestData;
    try {
      data = await ctx.session.request<NewRequestData>(NEW_REQUEST);
    } catch (error) {
      if (destroyed) return;
      replaceChildren(
        main,
        h("h1", { tabindex: -1 }, "New request"),
        failure(error, () => {
          replaceChildren(main, h("h1", { tabindex: -1 }, "New request"), h("p", { class: "muted", role: "status" }, "Loading…"));
          focusOn(main.querySelector("h1"));
          void load();
        }),
      );
      focusOn(main.querySelector<HTMLElement>(".retry") ?? main.querySelector("h1"));
      return;
    }
    if (destroyed) return;
    render(data);
  }

  function render(data: NewRequestData): void {
    const customer = data.me.customer ?? data.customers.edges[0]?.node ?? null;
    const projects = data.customers.edges.flatMap((edge) => edge.node.projects.edges.map((p) => p.node));
    const types = data.requestTypes;
    const slot = h("div", { class: "request-form-slot" });
    let chosen: RequestTypeData | null = null;
    let form: RequestForm | null = null;

    const choices = types.map((type) => {
      const input = h("input", { type: "radio", name: "request-type", id: `type-${type.id}`, value: type.id });
      const label = h("label", { for: input.id }, h("strong", {}, type.name));
      const description = type.description ? h("small", { id: `type-${type.id}-about`, class: "muted" }, type.description) : null;
      if (description) input.setAttribute("aria-describedby", description.id);
      input.addEventListener("change", () => {
        if (!input.checked || chosen?.id === type.id) return;
        const previous = chosen;
        if (form && (form.isDirty() || stripped(title.value) !== "") && !confirmDiscard(true, "Another type of request has another form. Discard what you filled in?")) {
          const back = previous ? document.getElementById(`type-${previous.id}`) : null;
          if (back instanceof HTMLInputElement) back.checked = true;
          return;
        }
        choose(type);
      });
      return h("div", { class: "type-choice check" }, input, h("div", {}, label, description));
    });

    const title = h("input", { type: "text", id: "request-title", name: "title", autocomplete: "off", "aria-required": "true" });
    const titleCounter = limitText(title, TITLE_MAX_LENGTH);
    const titleError = new FieldError("request-title", () => [title]);
    title.addEventListener("input", () => titleError.clear());
    const project = h(
      "select",
      { id: "request-project", name: "projectId" },
      h("option", { value: "" }, "No particular project"),
      projects.map((p) => h("option", { value: p.id }, p.name)),
    );
    const projectError = new FieldError("request-project", () => [project]);
    const summary = h("div", { class: "summary-slot" });
    const feedback = h("div");
    const submit = h("button", { type: "submit" }, "Submit request");
    let busy = false;

    function choose(type: RequestTypeData): void {
      chosen = type;
      release?.();
      const selected = projects.find((p) => p.id === project.value) ?? null;
      const definition = formOf(type);
      const prefill: Record<string, unknown> = {};
      for (const [name, hints] of Object.entries(definition.ui.fields ?? {})) {
        const value = known(hints.prefill, data, selected);
        if (value !== undefined && value !== null) prefill[name] = value;
      }
      form = new RequestForm(ctx, definition, prefill);
      const current = form;
      release = keepUnsaved(() => current.isDirty() || stripped(title.value) !== "");
      replaceChildren(summary);
      replaceChildren(feedback);
      replaceChildren(
        slot,
        h(
          "form",
          {
            class: "request-form panel",
            "aria-labelledby": "request-form-heading",
            novalidate: true,
            onsubmit: (event: Event) => {
              event.preventDefault();
              void send();
            },
          },
          h("h2", { id: "request-form-heading" }, type.name),
          summary,
          h("p", { class: "muted" }, "Fields marked (required) must be filled in."),
          h(
            "div",
            { class: "field" },
            h("label", { class: "field-label", for: title.id }, "Title", h("span", { class: "required" }, " (required)")),
            h("small", { id: "request-title-help", class: "help" }, "A few words that tell this request apart from your others."),
            title,
            titleCounter,
            titleError.element,
          ),
          projects.length > 0
            ? h("div", { class: "field" }, h("label", { class: "field-label", for: project.id }, "Project"), project, projectError.element)
            : null,
          current.element,
          h("div", { class: "row" }, submit, h("a", { href: link("requests") }, "Cancel")),
          feedback,
        ),
      );
      const titleDescribed = title.getAttribute("aria-describedby") ?? "";
      if (!titleDescribed.includes("request-title-help")) title.setAttribute("aria-describedby", `request-title-help ${titleDescribed}`.trim());
      setTitle(type.name, "New request");
      announce(`The form for ${type.name} is shown below.`);
    }

    async function send(): Promise<void> {
      if (busy || !form || !chosen) return;
      busy = true;
      submit.setAttribute("aria-disabled", "true");
      replaceChildren(feedback);
      const current = form;
      try {
        await current.settled();
        const data = await ctx.session.request<SubmitData>(SUBMIT_REQUEST, {
          input: {
            typeId: chosen.id,
            customerId: customer?.id ?? null,
            projectId: project.value || null,
            title: stripped(title.value),
            answers: current.answers(),
            attachmentIds: current.attachmentIds(),
          },
        });
        release?.();
        release = null;
        const made = data.submitRequest.request;
        announce(`Request ${made.number} is submitted.`);
        window.location.hash = link("requests", made.id);
      } catch (error) {
        const { byField, other } = fieldProblems(error);
        const problems = current.showErrors(byField);
        titleError.show((byField.get("title") ?? []).map((message) => message.replace(/^Title: /, "")));
        projectError.show(byField.get("projectId") ?? byField.get("project") ?? []);
        const listed: { label: string; message: string; target: HTMLElement | null }[] = [
          ...(byField.get("title") ?? []).map((message) => ({ label: "Title", message, target: title })),
          ...(byField.get("projectId") ?? byField.get("project") ?? []).map((message) => ({ label: "Project", message, target: project })),
          ...problems,
        ];
        // problems of no field on the form (the answers as a whole, a type no longer offered)
        const mapped = new Set(["title", "projectId", "project", ...current.fields.keys()]);
        for (const [name, messages] of byField) {
          if (!mapped.has(name)) for (const message of messages) listed.push({ label: "", message, target: null });
        }
        for (const message of other) listed.push({ label: "", message, target: null });
        if (listed.length > 0 && (byField.size > 0 || other.length > 0)) {
          replaceChildren(summary, errorSummary(listed));
          focusOn(summary.querySelector<HTMLElement>("h2"));
        } else {
          replaceChildren(feedback, notice("error", describe(error)));
          focusOn(feedback.firstElementChild as HTMLElement | null);
        }
      } finally {
        busy = false;
        submit.removeAttribute("aria-disabled");
      }
    }

    replaceChildren(
      main,
      h("nav", { class: "breadcrumb", "aria-label": "Breadcrumb" }, h("a", { href: link("requests") }, "My requests"), " › New request"),
      h("h1", { tabindex: -1 }, "New request"),
      customer ? h("p", { class: "lede" }, `For ${customer.name}. Choose what you need; the form asks for what the team needs to answer it.`) : null,
      types.length === 0
        ? h("p", {}, "No requests are offered to you yet.")
        : h(
            "fieldset",
            { class: "type-choices panel", role: "radiogroup", "aria-labelledby": "type-legend" },
            h("legend", { id: "type-legend" }, "What do you need?"),
            choices,
          ),
      slot,
    );
    focusOn(main.querySelector("h1"));
    if (types.length === 1) {
      const only = main.querySelector<HTMLInputElement>("input[name=request-type]");
      if (only) {
        only.checked = true;
        choose(types[0]!);
      }
    }
  }

  void load();
  return {
    destroy() {
      destroyed = true;
      release?.();
    },
  };
}
