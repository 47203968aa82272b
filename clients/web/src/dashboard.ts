// The home dashboard (#/dashboard): what waits for me, with a live count; and, for staff and a
// customer's lead contacts, a customer's figures over a period against the period before
// (tiles), charts of requests over time, response and resolution times, and the budget's
// burn with its year-end projection. Staff choose the customer; a lead contact sees their
// own. Each chart has its figures as a table and a sentence that sums it up.

import ACTION_COUNT from "../../operations/DashboardActionCount.graphql";
import ACTIONS from "../../operations/DashboardActions.graphql";
import CUSTOMERS from "../../operations/DashboardCustomers.graphql";
import FIGURES from "../../operations/DashboardFigures.graphql";
import { describe, failure, isStaff, link, setTitle, type AppContext, type View } from "./app";
import { chart, daySeconds, type ChartSpec } from "./dashboard-charts";
import { money } from "./documents";
import { field, focusOn, h, notice, replaceChildren, time } from "./dom";
import type { LiveSubscription } from "./live";
import type { Connection } from "./types";

type ActionObject =
  | { __typename: "Request"; id: string; number: number; title: string; customer: { name: string } }
  | { __typename: "Micropost"; id: string; body: string; project: { id: string; name: string } }
  | { __typename: "Page"; id: string; title: string }
  | { __typename: "BusinessDocument"; id: string; kind: string; number: string; title: string }
  | { __typename: "LibraryDocument"; id: string; title: string }
  | { __typename: "Notification"; id: string; reason: string };

interface ActionsData {
  dashboard: {
    actionCount: number;
    counts: { kind: string; count: number }[];
    items: Connection<{ reason: string; since: string; object: ActionObject }>;
  };
}

interface CustomersData {
  me: { id: string; role: string; customer: { id: string; name: string } | null };
  customers: Connection<{ id: string; name: string }>;
}

interface Figure {
  key: string;
  title: string;
  definition: string;
  unit: "COUNT" | "BUSINESS_HOURS" | "PERCENT";
  value: number | null;
  previousValue: number | null;
  series?: { start: string; value: number | null }[];
}

interface CurrencyBudget {
  currency: string;
  spent: string;
  committed: string;
  remaining: string | null;
  spentThisYear: string;
  burn: { month: string; amount: string }[];
  projection: { year: number; expected: string; low: string; high: string; rate: string; basisMonths: number } | null;
}

interface YearReview {
  year: number;
  budget: string | null;
  spent: { amount: string; currency: string }[];
  requestCount: number;
  projectCount: number;
}

interface FiguresData {
  kpis: {
    period: { from: string; to: string; days: number };
    previousPeriod: { from: string; to: string; days: number };
    submitted: Figure;
    resolved: Figure;
    firstResponseMedian: Figure;
    firstResponseP90: Figure;
    resolutionMedian: Figure;
    resolutionP90: Figure;
    slaCompliance: Figure;
    completeOnSubmission: Figure;
    selfServiceRate: Figure;
    activeContactsMonthly: Figure;
  } | null;
  customer: {
    id: string;
    name: string;
    budgetOverview: { budget: string | null; since: string | null; currencies: CurrencyBudget[] } | null;
    yearReviews: YearReview[] | null;
  } | null;
}

const REASONS: Record<string, string> = {
  SLA_BREACHED: "SLA breached",
  SLA_AT_RISK: "SLA at risk",
  ASSIGNED: "Assigned to you",
  UNASSIGNED: "Nobody assigned",
  UNANSWERED_POST: "Customer post unanswered",
  KEPT_DRAFT: "Your kept draft",
  NEEDS_INFO: "Waits for your information",
  QUOTE_DECISION: "Quote waits for your decision",
  MENTION: "You were mentioned",
  REPLY: "Reply to you",
  ACKNOWLEDGEMENT: "Waits for your acknowledgement",
};

const PERIODS: Record<string, string> = {
  LAST_30_DAYS: "Last 30 days",
  LAST_90_DAYS: "Last 90 days",
  LAST_365_DAYS: "Last 365 days",
  THIS_MONTH: "This month",
  LAST_MONTH: "Last month",
};

const COLOURS = { blue: "#2f6fb3", green: "#2e8540", orange: "#c75a00", grey: "#7a7a7a" };

function formatValue(unit: Figure["unit"], value: number | null): string {
  if (value === null) return "–";
  if (unit === "PERCENT") return `${value.toFixed(1)} %`;
  if (unit === "BUSINESS_HOURS") return `${value.toFixed(1)} business hours`;
  return String(Math.round(value * 10) / 10);
}

function tile(figure: Figure): HTMLElement {
  const change =
    figure.value !== null && figure.previousValue !== null
      ? figure.value - figure.previousValue
      : null;
  return h(
    "section",
    { class: "kpi-tile", "aria-label": figure.title, "data-kpi": figure.key },
    h("h3", {}, figure.title),
    h("p", { class: "kpi-value", "data-testid": "kpi-value" }, formatValue(figure.unit, figure.value)),
    h(
      "p",
      { class: "muted kpi-previous" },
      `Previous period: ${formatValue(figure.unit, figure.previousValue)}`,
      change === null || change === 0 ? "" : ` (${change > 0 ? "+" : "−"}${formatValue(figure.unit, Math.abs(change))})`,
    ),
    h("details", {}, h("summary", {}, "How it is counted"), h("p", {}, figure.definition)),
  );
}

function dayLabel(iso: string): string {
  return new Date(daySeconds(iso) * 1000).toLocaleDateString(undefined, { month: "short", day: "numeric", timeZone: "UTC" });
}

function monthLabel(iso: string): string {
  return new Date(daySeconds(iso) * 1000).toLocaleDateString(undefined, { month: "short", year: "numeric", timeZone: "UTC" });
}

function total(values: (number | null)[]): number {
  return values.reduce<number>((sum, value) => sum + (value ?? 0), 0);
}

function requestsChart(kpis: NonNullable<FiguresData["kpis"]>): ChartSpec {
  const weeks = kpis.submitted.series ?? [];
  const submitted = weeks.map((point) => point.value);
  const resolved = (kpis.resolved.series ?? []).map((point) => point.value);
  return {
    title: "Requests over time",
    summary: `${total(submitted)} requests submitted and ${total(resolved)} resolved over ${weeks.length} weeks.`,
    xLabel: "Week of",
    xLabels: weeks.map((point) => dayLabel(point.start)),
    xs: weeks.map((point) => daySeconds(point.start)),
    lines: [
      { label: "Submitted", values: submitted, colour: COLOURS.blue },
      { label: "Resolved", values: resolved, colour: COLOURS.green, dash: [6, 4] },
    ],
    format: (value) => String(value),
    testId: "chart-requests",
  };
}

function timesChart(kpis: NonNullable<FiguresData["kpis"]>): ChartSpec {
  const weeks = kpis.firstResponseMedian.series ?? [];
  const response = weeks.map((point) => point.value);
  const resolution = (kpis.resolutionMedian.series ?? []).map((point) => point.value);
  return {
    title: "Response and resolution times",
    summary:
      `Median first response ${formatValue("BUSINESS_HOURS", kpis.firstResponseMedian.value)} ` +
      `(p90 ${formatValue("BUSINESS_HOURS", kpis.firstResponseP90.value)}); median resolution ` +
      `${formatValue("BUSINESS_HOURS", kpis.resolutionMedian.value)} (p90 ${formatValue("BUSINESS_HOURS", kpis.resolutionP90.value)}), per week.`,
    xLabel: "Week of",
    xLabels: weeks.map((point) => dayLabel(point.start)),
    xs: weeks.map((point) => daySeconds(point.start)),
    lines: [
      { label: "First response, median (business hours)", values: response, colour: COLOURS.blue },
      { label: "Resolution, median (business hours)", values: resolution, colour: COLOURS.orange, dash: [6, 4] },
    ],
    format: (value) => `${value.toFixed(1)} h`,
    testId: "chart-times",
  };
}

/** Spent this year month by month (cumulative), then the projection's expected, low and
 * high lines from this month to December. */
function burnChart(figures: CurrencyBudget, today: Date): ChartSpec {
  const year = today.getUTCFullYear();
  const current = today.getUTCMonth(); // 0-based
  const months = Array.from({ length: 12 }, (_, index) => `${year}-${String(index + 1).padStart(2, "0")}-01`);
  const byMonth = new Map(figures.burn.map((point) => [point.month, Number(point.amount)]));
  let running = 0;
  const spent = months.map((month, index) => {
    if (index > current) return null;
    running += byMonth.get(month) ?? 0;
    return Math.round(running * 100) / 100;
  });
  const projection = figures.projection;
  const along = (end: string | undefined): (number | null)[] =>
    months.map((_, index) => {
      if (!projection || end === undefined || index < current) return null;
      const start = Number(figures.spentThisYear);
      const share = current === 11 ? 1 : (index - current) / (11 - current);
      return Math.round((start + (Number(end) - start) * share) * 100) / 100;
    });
  const lines = [{ label: `Spent this year (${figures.currency})`, values: spent, colour: COLOURS.blue }];
  if (projection) {
    lines.push(
      { label: "Projection", values: along(projection.expected), colour: COLOURS.orange, dash: [6, 4] } as (typeof lines)[number],
      { label: "Projection, low", values: along(projection.low), colour: COLOURS.grey, dash: [2, 4] } as (typeof lines)[number],
      { label: "Projection, high", values: along(projection.high), colour: COLOURS.grey, dash: [2, 4] } as (typeof lines)[number],
    );
  }
  const summary = projection
    ? `${money(figures.spentThisYear, figures.currency)} spent so far this year; at ${money(projection.rate, figures.currency)} a month ` +
      `(the mean of ${projection.basisMonths} complete months), about ${money(projection.expected, figures.currency)} by the end of ` +
      `${projection.year}, between ${money(projection.low, figures.currency)} and ${money(projection.high, figures.currency)}.`
    : `${money(figures.spentThisYear, figures.currency)} spent so far this year; no complete month of spending to project from yet.`;
  return {
    title: `Budget burn (${figures.currency})`,
    summary,
    xLabel: "Month",
    xLabels: months.map(monthLabel),
    xs: months.map(daySeconds),
    lines,
    format: (value) => money(value.toFixed(2), figures.currency),
    testId: `chart-burn-${figures.currency}`,
  };
}

function budgetSummary(overview: NonNullable<NonNullable<FiguresData["customer"]>["budgetOverview"]>): HTMLElement {
  return h(
    "dl",
    { class: "budget-figures", "data-testid": "budget-figures" },
    h("dt", {}, "Annual budget"),
    h("dd", {}, overview.budget === null ? "none set" : money(overview.budget, "").trim()),
    overview.currencies.map((figures) => [
      h("dt", {}, `Spent this year (${figures.currency})`),
      h("dd", { "data-testid": `spent-${figures.currency}` }, money(figures.spent, figures.currency)),
      h("dt", {}, `Committed (${figures.currency})`),
      h("dd", {}, money(figures.committed, figures.currency)),
      figures.remaining === null ? null : h("dt", {}, `Remaining (${figures.currency})`),
      figures.remaining === null ? null : h("dd", {}, money(figures.remaining, figures.currency)),
    ]).flat(),
  );
}

/** Each past year's budget against what was spent, with its requests and projects. */
function pastYears(reviews: YearReview[]): HTMLElement {
  if (reviews.length === 0) return h("p", { class: "muted" }, "No past years to review yet.");
  return h(
    "table",
    { class: "chart-table", "data-testid": "year-reviews" },
    h("caption", {}, "Past years"),
    h(
      "thead",
      {},
      h("tr", {}, ["Year", "Annual budget", "Spent", "Requests", "Projects"].map((heading) => h("th", { scope: "col" }, heading))),
    ),
    h(
      "tbody",
      {},
      reviews.map((review) =>
        h(
          "tr",
          {},
          h("th", { scope: "row" }, String(review.year)),
          h("td", {}, review.budget === null ? "–" : money(review.budget, "").trim()),
          h("td", {}, review.spent.length ? review.spent.map((m) => money(m.amount, m.currency)).join(", ") : "–"),
          h("td", {}, String(review.requestCount)),
          h("td", {}, String(review.projectCount)),
        ),
      ),
    ),
  );
}

function itemLink(object: ActionObject): HTMLElement {
  switch (object.__typename) {
    case "Request":
      return h("a", { href: link("requests", object.id) }, `#${object.number} ${object.title}`, h("small", { class: "muted" }, ` · ${object.customer.name}`));
    case "Micropost":
      return h("a", { href: link("posts", object.id) }, object.body.length > 80 ? `${object.body.slice(0, 80)}…` : object.body, h("small", { class: "muted" }, ` · ${object.project.name}`));
    case "Page":
      return h("a", { href: link("pages", object.id) }, object.title);
    case "BusinessDocument":
      return h("a", { href: "#/documents" }, `${object.number} ${object.title}`);
    case "LibraryDocument":
      return h("a", { href: link("library", object.id) }, object.title);
    default:
      return h("a", { href: "#/inbox" }, "Open the inbox");
  }
}

export function dashboardView(ctx: AppContext, main: HTMLElement): View {
  setTitle("Home");
  let destroyed = false;
  let charts: { destroy(): void }[] = [];
  let subscription: LiveSubscription<{ actionCount: number }> | null = null;
  const count = h("span", { class: "badge", "data-testid": "action-count" }, "…");
  const actionList = h("div", { class: "action-list" }, h("p", { class: "muted" }, "Loading…"));
  const figuresBox = h("div", { class: "dashboard-figures" });
  replaceChildren(
    main,
    h("h1", { tabindex: -1 }, "Home"),
    h("section", { "aria-labelledby": "actions-heading" }, h("h2", { id: "actions-heading" }, "What needs my action ", count), actionList),
    figuresBox,
  );
  focusOn(main.querySelector("h1"));

  async function loadActions(): Promise<void> {
    let data: ActionsData;
    try {
      data = await ctx.session.request<ActionsData>(ACTIONS);
    } catch (error) {
      if (!destroyed) replaceChildren(actionList, failure(error, () => void loadActions()));
      return;
    }
    if (destroyed) return;
    const { dashboard } = data;
    count.textContent = String(dashboard.actionCount);
    const items = dashboard.items.edges.map((edge) => edge.node);
    replaceChildren(
      actionList,
      dashboard.counts.length
        ? h("p", { class: "action-counts muted" }, dashboard.counts.map((c) => `${REASONS[c.kind] ?? c.kind}: ${c.count}`).join(" · "))
        : null,
      items.length === 0
        ? h("p", { "data-testid": "no-actions" }, "Nothing waits for you.")
        : h(
            "ul",
            { class: "action-items", "aria-label": "What needs my action" },
            items.map((item) =>
              h(
                "li",
                { "data-reason": item.reason },
                h("span", { class: "action-reason" }, REASONS[item.reason] ?? item.reason),
                " ",
                itemLink(item.object),
                " ",
                h("small", { class: "muted" }, "since ", time(item.since)),
              ),
            ),
          ),
      (dashboard.items.totalCount ?? 0) > items.length
        ? h("p", { class: "muted" }, `and ${(dashboard.items.totalCount ?? 0) - items.length} more`)
        : null,
    );
  }

  let timer: ReturnType<typeof setTimeout> | undefined;
  function liveCount(): void {
    subscription = ctx.live.subscribe<{ actionCount: number }>(ACTION_COUNT, {}, {
      next: ({ actionCount }) => {
        count.textContent = String(actionCount);
        clearTimeout(timer);
        timer = setTimeout(() => {
          if (!destroyed) void loadActions();
        }, 250);
      },
      error: (error) => replaceChildren(actionList, notice("error", "Live updates stopped: ", describe(error))),
    });
  }

  const customerSelect = h("select", { name: "customer" });
  const periodSelect = h(
    "select",
    { name: "period" },
    Object.entries(PERIODS).map(([value, label]) => h("option", { value }, label)),
  );
  periodSelect.value = "LAST_90_DAYS";
  customerSelect.addEventListener("change", () => void loadFigures());
  periodSelect.addEventListener("change", () => void loadFigures());
  const figuresContent = h("div", { "aria-live": "polite" });

  async function loadFigures(): Promise<void> {
    const customerId = customerSelect.value;
    if (!customerId) return;
    for (const c of charts) c.destroy();
    charts = [];
    replaceChildren(figuresContent, h("p", { class: "muted" }, "Loading…"));
    let data: FiguresData;
    try {
      data = await ctx.session.request<FiguresData>(FIGURES, { customerId, period: { preset: periodSelect.value } });
    } catch (error) {
      if (!destroyed) replaceChildren(figuresContent, failure(error, () => void loadFigures()));
      return;
    }
    if (destroyed || customerSelect.value !== customerId) return;
    const { kpis, customer } = data;
    if (!kpis || !customer) {
      replaceChildren(figuresContent, notice("info", "These figures are not available to you."));
      return;
    }
    const today = new Date();
    const budget = customer.budgetOverview;
    const made = [
      chart(requestsChart(kpis)),
      chart(timesChart(kpis)),
      ...(budget?.currencies ?? []).map((figures) => chart(burnChart(figures, today))),
    ];
    charts = made;
    replaceChildren(
      figuresContent,
      h(
        "p",
        { class: "muted", "data-testid": "figures-of" },
        `${customer.name}: ${dayLabel(kpis.period.from)} to ${dayLabel(kpis.period.to)}, against ${dayLabel(kpis.previousPeriod.from)} to ${dayLabel(kpis.previousPeriod.to)}.`,
      ),
      h(
        "div",
        { class: "kpi-tiles" },
        [
          kpis.submitted,
          kpis.resolved,
          kpis.firstResponseMedian,
          kpis.resolutionMedian,
          kpis.slaCompliance,
          kpis.completeOnSubmission,
          kpis.selfServiceRate,
          kpis.activeContactsMonthly,
        ].map(tile),
      ),
      h("h3", {}, "Charts"),
      h("div", { class: "charts" }, made.slice(0, 2).map((c) => c.element)),
      h("h3", {}, "Budget"),
      budget ? budgetSummary(budget) : h("p", {}, "The budget is not available to you."),
      h("div", { class: "charts" }, made.slice(2).map((c) => c.element)),
      customer.yearReviews ? pastYears(customer.yearReviews) : null,
    );
  }

  async function loadCustomers(): Promise<void> {
    let data: CustomersData;
    try {
      data = await ctx.session.request<CustomersData>(CUSTOMERS);
    } catch (error) {
      if (!destroyed) replaceChildren(figuresBox, failure(error, () => void loadCustomers()));
      return;
    }
    if (destroyed) return;
    const staff = isStaff(ctx.user);
    const own = data.me.customer;
    figuresBox.dataset.ready = "true";
    if (!staff && !(data.me.role === "CUSTOMER_ADMIN" && own)) return; // members: their actions only
    const customers = staff ? data.customers.edges.map((edge) => edge.node) : own ? [own] : [];
    replaceChildren(customerSelect, customers.map((c) => h("option", { value: c.id }, c.name)));
    replaceChildren(
      figuresBox,
      h(
        "section",
        { "aria-labelledby": "figures-heading" },
        h("h2", { id: "figures-heading" }, "Figures"),
        h(
          "form",
          { class: "filters row", "aria-label": "Which figures", onsubmit: (event: Event) => event.preventDefault() },
          staff ? field("Customer", customerSelect) : null,
          field("Period", periodSelect),
        ),
        figuresContent,
      ),
    );
    await loadFigures();
  }

  void loadActions().then(() => {
    if (!destroyed) liveCount();
  });
  void loadCustomers();
  return {
    destroy() {
      destroyed = true;
      clearTimeout(timer);
      subscription?.stop();
      for (const c of charts) c.destroy();
    },
  };
}
