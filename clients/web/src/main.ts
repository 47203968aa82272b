// The web client: sign-in, then a shell (navigation, unread badge, connection state) around
// one view at a time, chosen by the URL's hash: #/, #/projects/ID, #/pages/ID, #/posts/ID,
// #/inbox, #/search/QUERY, #/topics/NAME, #/people/ID, #/invite/CUSTOMER_ID, #/requests,
// #/requests/new, #/requests/ID, #/queue/QUEUE (staff), #/documents, #/library, #/library/ID,
// #/account, #/integrations, #/dashboard; signed out,
// #/invitation/TOKEN accepts an invitation, #/forgot-password asks for a password reset
// link and #/reset-password/TOKEN sets a new password.

import UNREAD_NOTIFICATION_COUNT from "../../operations/UnreadNotificationCount.graphql";
import { accountView } from "./account";
import { dashboardView } from "./dashboard";
import { isStaff, setTitle, type AppContext, type View } from "./app";
import { documentsView } from "./documents";
import { h, replaceChildren } from "./dom";
import { homeView } from "./home";
import { inboxView } from "./inbox";
import { integrationsView } from "./integrations";
import { inviteView } from "./invite";
import { Live, type ConnectionState } from "./live";
import { libraryDocumentView } from "./library-document";
import { libraryView } from "./library-list";
import { invitationView, loginView } from "./login";
import { pageView } from "./page";
import { postView, projectView } from "./project";
import { forgotPasswordView, resetPasswordView } from "./reset";
import { requestsHome } from "./requests";
import { myRequestsView, queueView } from "./requests-list";
import { newRequestView } from "./requests-new";
import { requestView } from "./requests-view";
import { personView, searchView, topicView } from "./search";
import { Session } from "./session";
import { confirmLeaving, releaseAll } from "./unsaved";

const root = document.getElementById("app")!;
const session = Session.restore();

const STATE_TEXT: Record<ConnectionState, string> = {
  idle: "Offline",
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
};

let signedIn: { live: Live; view: View | null; main: HTMLElement; ctx: AppContext; stop: () => void } | null = null;

function signIn(message?: string): void {
  const [, kind, token] = window.location.hash.replace(/^#/, "").split("/");
  if (kind === "invitation" && token && !message) invitationView(root, session, token, () => start());
  else if (kind === "forgot-password" && !message) forgotPasswordView(root, session);
  else if (kind === "reset-password" && token && !message)
    resetPasswordView(root, session, token, () => signIn("Your new password is set: sign in with it."));
  else loginView(root, session, () => start(), message);
}

session.onEnded = (message) => {
  releaseAll();
  void stopShell();
  signIn(message);
};

async function stopShell(): Promise<void> {
  const shell = signedIn;
  signedIn = null;
  if (!shell) return;
  shell.view?.destroy();
  shell.stop();
  await shell.live.dispose();
}

function start(): void {
  const user = session.user;
  if (!user) {
    signIn();
    return;
  }
  const live = new Live(session);
  const unreadListeners = new Set<(count: number) => void>();
  const ctx: AppContext = {
    session,
    live,
    user,
    onUnread(listener) {
      unreadListeners.add(listener);
      return () => unreadListeners.delete(listener);
    },
  };

  const badge = h("span", { class: "badge", hidden: true, "data-testid": "unread-count" });
  const inboxLink = h("a", { href: "#/inbox", "aria-label": "Inbox" }, "Inbox ", badge);
  // the coloured dot is decoration: the words say the state
  const stateText = h("span", {});
  const state = h(
    "span",
    { class: "connection", role: "status", "data-testid": "connection" },
    h("span", { class: "connection-dot", "aria-hidden": "true" }),
    stateText,
  );
  const signOut = h("button", { type: "button", class: "secondary" }, "Sign out");
  const main = h("main", { id: "main" });
  replaceChildren(
    root,
    h("a", { class: "skip", href: "#main", onclick: (event: Event) => { event.preventDefault(); main.focus(); } }, "Skip to content"),
    h(
      "header",
      { class: "topbar" },
      h("a", { class: "brand", href: "#/" }, "Extranet"),
      h(
        "nav",
        { "aria-label": "Main" },
        h("a", { href: "#/dashboard" }, "Dashboard"),
        h("a", { href: "#/" }, "Projects"),
        h("a", { href: requestsHome(ctx).href }, requestsHome(ctx).label),
        h("a", { href: "#/documents" }, "Documents"),
        h("a", { href: "#/library" }, "Library"),
        inboxLink,
        h("a", { href: "#/search" }, "Search"),
        h("a", { href: "#/account" }, "Account"),
        h("a", { href: "#/integrations" }, user.role === "ADMIN" ? "Integrations" : "API tokens"),
      ),
      state,
      h("span", { class: "who" }, user.name),
      signOut,
    ),
    main,
    h("div", { id: "announcer", class: "visually-hidden", "aria-live": "polite" }),
  );
  main.tabIndex = -1;

  const stopState = live.onState((now) => {
    stateText.textContent = STATE_TEXT[now];
    state.dataset.state = now;
  });
  const unread = live.subscribe<{ unreadNotificationCount: number }>(UNREAD_NOTIFICATION_COUNT, {}, {
    next: ({ unreadNotificationCount: count }) => {
      badge.hidden = count === 0;
      badge.textContent = String(count);
      badge.dataset.count = String(count);
      inboxLink.setAttribute("aria-label", count ? `Inbox, ${count} unread` : "Inbox");
      for (const listener of unreadListeners) listener(count);
    },
  });
  signOut.addEventListener("click", async () => {
    if (!confirmLeaving("You have text that is not saved yet. Sign out and lose it?")) return;
    releaseAll();
    await stopShell();
    await session.logout();
    shownHash = "#/"; // the sign-in view below is that address's: no second one on hashchange
    window.location.hash = "#/";
    signIn("You are signed out.");
  });

  signedIn = {
    live,
    view: null,
    main,
    ctx,
    stop: () => {
      stopState();
      unread.stop();
    },
  };
  route();
}

function route(): void {
  if (!signedIn) return;
  signedIn.view?.destroy();
  const { ctx, main } = signedIn;
  const [, kind = "", rawId = ""] = window.location.hash.replace(/^#/, "").split("/");
  let id = "";
  try {
    id = decodeURIComponent(rawId);
  } catch {
    id = rawId;
  }
  setTitle();
  if (kind === "projects" && id) signedIn.view = projectView(ctx, main, id);
  else if (kind === "pages" && id) signedIn.view = pageView(ctx, main, id);
  else if (kind === "posts" && id) signedIn.view = postView(ctx, main, id);
  else if (kind === "inbox") signedIn.view = inboxView(ctx, main);
  else if (kind === "search") signedIn.view = searchView(ctx, main, id);
  else if (kind === "topics" && id) signedIn.view = topicView(ctx, main, id);
  else if (kind === "people" && id) signedIn.view = personView(ctx, main, id);
  else if (kind === "invite" && id) signedIn.view = inviteView(ctx, main, id);
  else if (kind === "requests" && id === "new") signedIn.view = newRequestView(ctx, main);
  else if (kind === "requests" && id) signedIn.view = requestView(ctx, main, id);
  else if (kind === "requests" && isStaff(ctx.user)) signedIn.view = queueView(ctx, main, "open");
  else if (kind === "requests") signedIn.view = myRequestsView(ctx, main);
  else if (kind === "queue") signedIn.view = queueView(ctx, main, id);
  else if (kind === "documents") signedIn.view = documentsView(ctx, main);
  else if (kind === "library" && id) signedIn.view = libraryDocumentView(ctx, main, id);
  else if (kind === "library") signedIn.view = libraryView(ctx, main);
  else if (kind === "dashboard") signedIn.view = dashboardView(ctx, main);
  else if (kind === "account") signedIn.view = accountView(ctx, main);
  else if (kind === "integrations") signedIn.view = integrationsView(ctx, main);
  else signedIn.view = homeView(ctx, main);
  window.scrollTo(0, 0);
}

// the address the current view belongs to: where a declined navigation goes back to
let shownHash = window.location.hash;

window.addEventListener("hashchange", () => {
  if (window.location.hash === shownHash) return;
  if (signedIn && !confirmLeaving()) {
    // stay: put the address back without a second hashchange (Back lands here too)
    history.replaceState(history.state, "", shownHash || window.location.pathname);
    return;
  }
  shownHash = window.location.hash;
  // signed out: an invitation or password link, the forgotten-password form, or back to signing in
  if (!signedIn && /^(#\/(invitation|reset-password|forgot-password)\b.*|#\/?|)$/.test(window.location.hash)) signIn();
  route();
});
if (session.user) start();
else signIn();
