// Integrations (#/integrations): everybody's own personal access tokens; for administrators
// also the service accounts with their tokens, other people's tokens, and the webhook
// endpoints with their state and delivery log. A new token is shown once, with a copy button.

import INTEGRATIONS from "../../operations/Integrations.graphql";
import INTEGRATIONS_ADMIN from "../../operations/IntegrationsAdmin.graphql";
import CREATE_SERVICE_ACCOUNT from "../../operations/IntegrationsCreateServiceAccount.graphql";
import CREATE_SERVICE_ACCOUNT_TOKEN from "../../operations/IntegrationsCreateServiceAccountToken.graphql";
import CREATE_TOKEN from "../../operations/IntegrationsCreateToken.graphql";
import CREATE_WEBHOOK from "../../operations/IntegrationsCreateWebhook.graphql";
import ENABLE_WEBHOOK from "../../operations/IntegrationsEnableWebhook.graphql";
import REDELIVER_WEBHOOK from "../../operations/IntegrationsRedeliverWebhook.graphql";
import REVOKE_TOKEN from "../../operations/IntegrationsRevokeToken.graphql";
import ROTATE_WEBHOOK_SECRET from "../../operations/IntegrationsRotateWebhookSecret.graphql";
import WEBHOOK_DELIVERIES from "../../operations/IntegrationsWebhookDeliveries.graphql";
import { describe, failure, setTitle, type AppContext, type View } from "./app";
import { absoluteTime, announce as announceText, field, focusOn, h, notice, replaceChildren, time } from "./dom";

interface AccessToken {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  expiresAt: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
  ownerId: string;
}

interface ServiceAccount {
  id: string;
  name: string;
  description: string;
  role: string;
  customerId: string | null;
  active: boolean;
  createdAt: string;
  user: { id: string };
}

interface WebhookEndpoint {
  id: string;
  url: string;
  description: string;
  eventTypes: string[];
  customerId: string | null;
  projectId: string | null;
  secret: string;
  previousSecretExpiresAt: string | null;
  state: "ACTIVE" | "PAUSED" | "DISABLED";
  stateSince: string | null;
  stateReason: string;
  consecutiveFailures: number;
  nextAttemptAt: string | null;
  createdAt: string;
}

interface Delivery {
  id: string;
  eventType: string;
  webhookId: string;
  attempt: number;
  manual: boolean;
  status: "SUCCEEDED" | "FAILED";
  durationMs: number;
  responseCode: number | null;
  responseBody: string;
  error: string;
  createdAt: string;
}

interface NewToken {
  token: string;
  accessToken: { id: string; name: string; prefix: string };
}

const AREAS: [string, string][] = [
  ["customers", "Customers and contacts"],
  ["projects", "Projects and timelines"],
  ["pages", "Pages and files"],
  ["requests", "Requests"],
  ["business_documents", "Quotes, orders and invoices"],
  ["webhooks", "Webhooks"],
];

const STATE_LABELS: Record<WebhookEndpoint["state"], string> = {
  ACTIVE: "Active",
  PAUSED: "Paused",
  DISABLED: "Disabled",
};

const BODY_SHOWN = 200; // characters of a delivery's response body

function isoDaysAhead(days: number): string {
  return new Date(Date.now() + days * 24 * 3600 * 1000).toISOString();
}

export function integrationsView(ctx: AppContext, main: HTMLElement): View {
  let destroyed = false;
  const admin = ctx.user.role === "ADMIN";
  const title = admin ? "Integrations" : "API tokens";
  setTitle(title);
  replaceChildren(main, h("p", { class: "muted" }, "Loading…"));
  // a token just created, shown once above the lists until the view is left
  let revealed: { token: string; name: string } | null = null;

  async function load(focus?: () => HTMLElement | null): Promise<void> {
    let tokens: AccessToken[];
    let accounts: ServiceAccount[] = [];
    let endpoints: WebhookEndpoint[] = [];
    try {
      tokens = (await ctx.session.request<{ accessTokens: AccessToken[] }>(INTEGRATIONS)).accessTokens;
      if (admin) {
        const data = await ctx.session.request<{ serviceAccounts: ServiceAccount[]; webhookEndpoints: WebhookEndpoint[] }>(
          INTEGRATIONS_ADMIN,
        );
        accounts = data.serviceAccounts;
        endpoints = data.webhookEndpoints;
      }
    } catch (error) {
      if (destroyed) return;
      replaceChildren(main, h("h1", { tabindex: -1 }, title), failure(error, () => void load()));
      focusOn(main.querySelector<HTMLElement>(".retry") ?? main.querySelector("h1"));
      return;
    }
    if (destroyed) return;
    const serviceUsers = new Set(accounts.map((account) => account.user.id));
    replaceChildren(
      main,
      h("h1", { tabindex: -1 }, title),
      h(
        "p",
        { class: "lede" },
        "Programs use access tokens instead of a password: send one as ",
        h("code", {}, "Authorization: Bearer …"),
        ". A token acts as its owner, within its scopes, until it expires or is revoked.",
      ),
      revealed ? revealedPanel(revealed) : null,
      personalSection(tokens.filter((token) => token.ownerId === ctx.user.id)),
      admin ? serviceAccountsSection(accounts, tokens) : null,
      admin ? othersSection(tokens.filter((token) => token.ownerId !== ctx.user.id && !serviceUsers.has(token.ownerId))) : null,
      admin ? webhooksSection(endpoints) : null,
    );
    focusOn((focus && focus()) ?? main.querySelector("h1"));
  }

  function revealedPanel(shown: { token: string; name: string }): HTMLElement {
    const value = h("input", {
      type: "text",
      readonly: true,
      value: shown.token,
      class: "token-value",
      spellcheck: "false",
      autocomplete: "off",
      "data-testid": "new-token",
    });
    const copied = h("span", { role: "status", class: "muted" });
    return h(
      "section",
      { class: "panel token-reveal", "aria-labelledby": "token-reveal-heading", "data-testid": "token-reveal" },
      h("h2", { id: "token-reveal-heading" }, `Your new token “${shown.name}”`),
      notice(
        "info",
        h("strong", {}, "Copy it now: it is shown only this once. "),
        "Only its hash is kept, so nobody can show it again; store it like a password. If it is lost, revoke it and make a new one.",
      ),
      field("Token", value),
      h(
        "p",
        {},
        h(
          "button",
          {
            type: "button",
            onclick: async () => {
              value.select();
              try {
                await navigator.clipboard.writeText(shown.token);
                copied.textContent = "Copied.";
              } catch {
                copied.textContent = "Select the token and copy it yourself (Ctrl+C or ⌘C).";
              }
            },
          },
          "Copy token",
        ),
        " ",
        h("button", { type: "button", class: "secondary", onclick: () => { revealed = null; void load(); } }, "I have stored it"),
        " ",
        copied,
      ),
    );
  }

  function section(id: string, heading: string, ...content: (HTMLElement | string | null)[]): HTMLElement {
    return h("section", { class: "panel integrations-section", "aria-labelledby": id }, h("h2", { id }, heading), ...content);
  }

  /** A form that says how its submission went; `submit` throws to show an error. */
  function form(label: string, button: string, controls: HTMLElement[], submit: () => Promise<void>): HTMLFormElement {
    const feedback = h("div");
    const go = h("button", { type: "submit" }, button);
    const element = h(
      "form",
      {
        class: "integrations-form",
        "aria-label": label,
        onsubmit: async (event: Event) => {
          event.preventDefault();
          if (go.getAttribute("aria-disabled") === "true") return;
          go.setAttribute("aria-disabled", "true");
          replaceChildren(feedback);
          try {
            await submit();
          } catch (error) {
            if (destroyed) return;
            replaceChildren(feedback, notice("error", describe(error)));
            element.querySelector<HTMLElement>("input, select")?.focus();
          } finally {
            go.removeAttribute("aria-disabled");
          }
        },
      },
      ...controls,
      go,
      feedback,
    );
    return element;
  }

  /** Name, scopes and expiry of a new token; the scopes it asks for. */
  function tokenControls(prefix: string): { controls: HTMLElement[]; name: HTMLInputElement; scopes: () => string[]; expiresAt: () => string } {
    const name = h("input", { type: "text", name: "name", required: true, maxlength: 100, autocomplete: "off" });
    const selects = AREAS.map(([area, label]) => {
      const select = h(
        "select",
        { name: `scope-${area}` },
        h("option", { value: "" }, "No access"),
        h("option", { value: "read" }, "Read"),
        h("option", { value: "write" }, "Read and write"),
      );
      return { area, control: field(label, select), select };
    });
    const expiry = h(
      "select",
      { name: "expiry" },
      h("option", { value: "30" }, "30 days"),
      h("option", { value: "90", selected: true }, "90 days"),
      h("option", { value: "365" }, "One year"),
    );
    const scopes = h(
      "fieldset",
      { class: "scopes" },
      h("legend", {}, "Scopes"),
      h("p", { class: "muted", id: `${prefix}-scopes-hint` }, "What the token may reach; its owner's rights still apply."),
      selects.map(({ control }) => control),
    );
    return {
      controls: [field("Name", name, "What uses it, such as “Nightly CRM export”."), scopes, field("Expires in", expiry)],
      name,
      scopes: () => selects.filter(({ select }) => select.value).map(({ area, select }) => `${area}:${select.value}`),
      expiresAt: () => isoDaysAhead(Number(expiry.value)),
    };
  }

  function tokenList(tokens: AccessToken[], label: string): HTMLElement {
    if (tokens.length === 0) return h("p", { class: "muted" }, "No tokens.");
    return h(
      "ul",
      { class: "token-list", "aria-label": label },
      tokens.map((token) => {
        const revoked = token.revokedAt !== null;
        const expired = !revoked && new Date(token.expiresAt).getTime() < Date.now();
        return h(
          "li",
          { class: revoked || expired ? "token gone" : "token", "data-testid": "token" },
          h("strong", {}, token.name),
          " ",
          h("code", { class: "token-prefix" }, `${token.prefix}…`),
          h("div", { class: "muted token-scopes" }, token.scopes.length ? token.scopes.join(", ") : "no scopes"),
          h(
            "div",
            { class: "muted" },
            revoked ? ["Revoked ", time(token.revokedAt!)] : [expired ? "Expired " : "Expires ", time(token.expiresAt)],
            " · ",
            token.lastUsedAt ? ["last used ", time(token.lastUsedAt)] : "never used",
          ),
          revoked
            ? null
            : h(
                "button",
                {
                  type: "button",
                  class: "secondary",
                  "aria-label": `Revoke ${token.name} (${token.prefix}…)`,
                  onclick: async (event: Event) => {
                    if (!window.confirm(`Revoke “${token.name}”? Programs using it stop working at once.`)) return;
                    const button = event.currentTarget as HTMLButtonElement;
                    try {
                      await ctx.session.request(REVOKE_TOKEN, { tokenId: token.id });
                    } catch (error) {
                      button.after(notice("error", describe(error)));
                      return;
                    }
                    announceText(`${token.name} is revoked.`);
                    await load();
                  },
                },
                "Revoke",
              ),
        );
      }),
    );
  }

  function personalSection(tokens: AccessToken[]): HTMLElement {
    const fields = tokenControls("personal");
    return section(
      "personal-tokens-heading",
      "Your personal access tokens",
      h("p", {}, "A personal token acts as you: for your own scripts. Never share it."),
      tokenList(tokens, "Your personal access tokens"),
      h("h3", {}, "New personal token"),
      form("New personal token", "Create token", fields.controls, async () => {
        const answer = await ctx.session.request<{ createAccessToken: NewToken }>(CREATE_TOKEN, {
          input: { name: fields.name.value.trim(), scopes: fields.scopes(), expiresAt: fields.expiresAt() },
        });
        revealed = { token: answer.createAccessToken.token, name: answer.createAccessToken.accessToken.name };
        announceText("Your new token is shown once: copy it now.");
        await load(() => main.querySelector<HTMLElement>(".token-value"));
      }),
    );
  }

  function serviceAccountsSection(accounts: ServiceAccount[], tokens: AccessToken[]): HTMLElement {
    const name = h("input", { type: "text", name: "serviceAccountName", required: true, maxlength: 100, autocomplete: "off" });
    const role = h(
      "select",
      { name: "role" },
      h("option", { value: "ADMIN" }, "Administrator (provider-wide)"),
      h("option", { value: "STAFF" }, "Staff (provider-wide)"),
    );
    return section(
      "service-accounts-heading",
      "Service accounts",
      h("p", {}, "An integration's own identity (a CRM, an ERP), acting through its tokens only, as a person of its role would."),
      accounts.length === 0
        ? h("p", { class: "muted" }, "No service accounts yet.")
        : h(
            "ul",
            { class: "service-accounts", "aria-label": "Service accounts" },
            accounts.map((account) => {
              const fields = tokenControls(`account-${account.id}`);
              return h(
                "li",
                { class: "service-account" },
                h("h3", {}, account.name, account.active ? null : h("span", { class: "muted" }, " (deactivated)")),
                h("p", { class: "muted" }, `${account.role}${account.description ? ` · ${account.description}` : ""}`),
                tokenList(
                  tokens.filter((token) => token.ownerId === account.user.id),
                  `Tokens of ${account.name}`,
                ),
                account.active
                  ? h(
                      "details",
                      {},
                      h("summary", {}, `New token for ${account.name}`),
                      form(`New token for ${account.name}`, "Create token", fields.controls, async () => {
                        const answer = await ctx.session.request<{ createServiceAccountToken: NewToken }>(
                          CREATE_SERVICE_ACCOUNT_TOKEN,
                          {
                            input: {
                              serviceAccountId: account.id,
                              name: fields.name.value.trim(),
                              scopes: fields.scopes(),
                              expiresAt: fields.expiresAt(),
                            },
                          },
                        );
                        revealed = {
                          token: answer.createServiceAccountToken.token,
                          name: `${account.name}: ${answer.createServiceAccountToken.accessToken.name}`,
                        };
                        announceText("The new token is shown once: copy it now.");
                        await load(() => main.querySelector<HTMLElement>(".token-value"));
                      }),
                    )
                  : null,
              );
            }),
          ),
      h("h3", {}, "New service account"),
      form("New service account", "Create service account", [field("Name", name), field("Role", role)], async () => {
        await ctx.session.request(CREATE_SERVICE_ACCOUNT, { input: { name: name.value.trim(), role: role.value } });
        announceText(`${name.value.trim()} is created.`);
        await load();
      }),
    );
  }

  function othersSection(tokens: AccessToken[]): HTMLElement {
    return section(
      "others-tokens-heading",
      "Other people's tokens",
      h("p", {}, "Revoke a token that leaked or is no longer needed."),
      tokenList(tokens, "Other people's tokens"),
    );
  }

  function stateLine(endpoint: WebhookEndpoint): HTMLElement {
    const since = endpoint.stateSince ? [" since ", time(endpoint.stateSince)] : null;
    return h(
      "p",
      { class: `webhook-state webhook-${endpoint.state.toLowerCase()}`, "data-state": endpoint.state },
      h("strong", {}, STATE_LABELS[endpoint.state]),
      endpoint.state === "ACTIVE" ? null : since,
      endpoint.state !== "ACTIVE" && endpoint.stateReason ? `: ${endpoint.stateReason}` : null,
      endpoint.state === "PAUSED" ? " It is probed every 30 minutes and resumes by itself when it answers." : null,
      endpoint.state === "DISABLED" ? " Nothing is sent until it is enabled again." : null,
      endpoint.consecutiveFailures ? ` · ${endpoint.consecutiveFailures} failed attempt(s) at its next event` : null,
    );
  }

  function webhooksSection(endpoints: WebhookEndpoint[]): HTMLElement {
    const url = h("input", { type: "url", name: "url", required: true, placeholder: "https://", autocomplete: "off" });
    const types = h("input", { type: "text", name: "eventTypes", autocomplete: "off", spellcheck: "false" });
    return section(
      "webhooks-heading",
      "Webhook endpoints",
      h("p", {}, "Each endpoint receives the events its owner may read, in order, signed (Standard Webhooks)."),
      endpoints.length === 0
        ? h("p", { class: "muted" }, "No webhook endpoints yet.")
        : h("ul", { class: "webhooks", "aria-label": "Webhook endpoints" }, endpoints.map(endpointItem)),
      h("h3", {}, "New webhook endpoint"),
      form(
        "New webhook endpoint",
        "Add endpoint",
        [
          field("URL", url, "Public addresses only."),
          field("Event types", types, "Separated by commas, such as REQUEST_SUBMITTED; empty: every type."),
        ],
        async () => {
          const eventTypes = types.value.split(",").map((type) => type.trim()).filter(Boolean);
          await ctx.session.request(CREATE_WEBHOOK, { input: { url: url.value.trim(), eventTypes } });
          announceText("The endpoint is added.");
          await load();
        },
      ),
    );
  }

  function endpointItem(endpoint: WebhookEndpoint): HTMLElement {
    const log = h("div", { class: "delivery-log", "aria-live": "polite" });
    const status = h("span", { role: "status", class: "muted" });
    async function act(operation: string, done: string): Promise<void> {
      try {
        await ctx.session.request(operation, { endpointId: endpoint.id });
      } catch (error) {
        replaceChildren(status, describe(error));
        return;
      }
      announceText(done);
      await load(() => main.querySelector<HTMLElement>(`[data-endpoint="${endpoint.id}"] h3`));
    }
    return h(
      "li",
      { class: "webhook", "data-endpoint": endpoint.id },
      h("h3", { tabindex: -1 }, endpoint.url),
      endpoint.description ? h("p", {}, endpoint.description) : null,
      stateLine(endpoint),
      h(
        "p",
        { class: "muted" },
        endpoint.eventTypes.length ? endpoint.eventTypes.join(", ") : "Every event type",
        endpoint.nextAttemptAt ? [" · next attempt ", time(endpoint.nextAttemptAt)] : null,
      ),
      h(
        "details",
        {},
        h("summary", {}, "Signing secret"),
        h("p", {}, h("code", { class: "secret" }, endpoint.secret)),
        endpoint.previousSecretExpiresAt
          ? h("p", { class: "muted" }, `The previous secret signs too until ${absoluteTime(endpoint.previousSecretExpiresAt)}.`)
          : null,
      ),
      h(
        "p",
        { class: "actions" },
        h(
          "button",
          { type: "button", class: "secondary", "aria-expanded": "false", onclick: (event: Event) => void toggleLog(event.currentTarget as HTMLButtonElement, endpoint, log) },
          "Show delivery log",
        ),
        " ",
        endpoint.state === "ACTIVE"
          ? null
          : h("button", { type: "button", onclick: () => void act(ENABLE_WEBHOOK, "The endpoint is enabled.") }, "Enable"),
        " ",
        h(
          "button",
          {
            type: "button",
            class: "secondary",
            onclick: () => {
              if (!window.confirm("Rotate the signing secret? The previous one keeps signing for a day.")) return;
              void act(ROTATE_WEBHOOK_SECRET, "The signing secret is rotated.");
            },
          },
          "Rotate secret",
        ),
        " ",
        status,
      ),
      log,
    );
  }

  async function toggleLog(button: HTMLButtonElement, endpoint: WebhookEndpoint, log: HTMLElement): Promise<void> {
    if (button.getAttribute("aria-expanded") === "true") {
      button.setAttribute("aria-expanded", "false");
      button.textContent = "Show delivery log";
      replaceChildren(log);
      return;
    }
    button.setAttribute("aria-expanded", "true");
    button.textContent = "Hide delivery log";
    await showLog(endpoint, log);
  }

  async function showLog(endpoint: WebhookEndpoint, log: HTMLElement): Promise<void> {
    replaceChildren(log, h("p", { class: "muted" }, "Loading the delivery log…"));
    let deliveries: Delivery[];
    let total: number;
    try {
      const data = await ctx.session.request<{
        webhookEndpoint: { deliveries: { totalCount: number; edges: { node: Delivery }[] } } | null;
      }>(WEBHOOK_DELIVERIES, { id: endpoint.id });
      deliveries = data.webhookEndpoint?.deliveries.edges.map((edge) => edge.node) ?? [];
      total = data.webhookEndpoint?.deliveries.totalCount ?? 0;
    } catch (error) {
      if (!destroyed) replaceChildren(log, failure(error, () => void showLog(endpoint, log)));
      return;
    }
    if (destroyed) return;
    if (deliveries.length === 0) {
      replaceChildren(log, h("p", { class: "muted" }, "Nothing delivered yet."));
      return;
    }
    replaceChildren(
      log,
      h(
        "table",
        { class: "deliveries", "data-testid": "deliveries" },
        h("caption", {}, `Delivery log, newest first (${deliveries.length} of ${total})`),
        h(
          "thead",
          {},
          h("tr", {}, ["When", "Event", "Attempt", "Status", "Duration", "Response", "Body", ""].map((label) =>
            h("th", { scope: "col" }, label || h("span", { class: "visually-hidden" }, "Actions")),
          )),
        ),
        h(
          "tbody",
          {},
          deliveries.map((delivery) => {
            const body = delivery.responseBody.length > BODY_SHOWN ? `${delivery.responseBody.slice(0, BODY_SHOWN)}…` : delivery.responseBody;
            const outcome = h("span", { role: "status" });
            return h(
              "tr",
              { "data-status": delivery.status },
              h("td", {}, time(delivery.createdAt)),
              h("td", {}, h("code", {}, delivery.eventType)),
              h("td", {}, String(delivery.attempt), delivery.manual ? " (by hand)" : null),
              h("td", { class: delivery.status === "SUCCEEDED" ? "delivered" : "failed" }, delivery.status === "SUCCEEDED" ? "Delivered" : "Failed"),
              h("td", {}, `${delivery.durationMs} ms`),
              h("td", {}, delivery.responseCode === null ? (delivery.error || "No answer") : String(delivery.responseCode)),
              h("td", {}, body ? h("code", { class: "response-body" }, body) : h("span", { class: "muted" }, "empty")),
              h(
                "td",
                {},
                h(
                  "button",
                  {
                    type: "button",
                    class: "secondary",
                    "aria-label": `Send ${delivery.eventType} of ${absoluteTime(delivery.createdAt)} again`,
                    onclick: async () => {
                      try {
                        await ctx.session.request(REDELIVER_WEBHOOK, { deliveryId: delivery.id });
                        outcome.textContent = "Sent again soon.";
                      } catch (error) {
                        outcome.textContent = describe(error);
                      }
                    },
                  },
                  "Redeliver",
                ),
                " ",
                outcome,
              ),
            );
          }),
        ),
      ),
    );
  }

  void load();
  return {
    destroy() {
      destroyed = true;
      revealed = null;
    },
  };
}
