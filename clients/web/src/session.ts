// The signed-in session: tokens in sessionStorage (one session per tab, so two tabs never
// spend the same rotating refresh token), a fresh access token on demand, and GraphQL over
// HTTP with one retry after a refresh when the server says the token is no longer valid.

import COMPLETE_LOGIN from "../../operations/CompleteLogin.graphql";
import CONFIRM_TOTP from "../../operations/ConfirmTotp.graphql";
import ACCEPT_INVITATION from "../../operations/AcceptInvitation.graphql";
import ENROLL_TOTP from "../../operations/EnrollTotp.graphql";
import LOGIN from "../../operations/Login.graphql";
import LOGOUT from "../../operations/Logout.graphql";
import REFRESH_SESSION from "../../operations/RefreshSession.graphql";
import REQUEST_PASSWORD_RESET from "../../operations/RequestPasswordReset.graphql";
import RESET_PASSWORD from "../../operations/ResetPassword.graphql";
import type { SessionUser } from "./types";

const STORAGE_KEY = "extranet.session";
const REFRESH_MARGIN_MS = 30_000; // refresh this long before the access token expires…
const REFRESH_MARGIN_SHARE = 0.2; // …or at most this share of its lifetime before

export interface GraphQLErrorShape {
  message: string;
  path?: (string | number)[];
  extensions?: Record<string, unknown> & { code?: string };
}

/** The server answered with errors; `code` is the first error's `extensions.code`. */
export class GraphQLRequestError extends Error {
  constructor(readonly errors: GraphQLErrorShape[]) {
    super(errors.map((error) => error.message).join(" ") || "The server answered with an error.");
    this.name = "GraphQLRequestError";
  }

  get code(): string | undefined {
    return this.errors[0]?.extensions?.code;
  }

  hasCode(code: string): boolean {
    return this.errors.some((error) => error.extensions?.code === code);
  }
}

/** The server could not be reached, or answered something that is not GraphQL. */
export class NetworkError extends Error {
  override name = "NetworkError";
}

/** The session could not be refreshed: the user has to sign in again. */
export class SessionEnded extends Error {
  override name = "SessionEnded";
}

interface Stored {
  accessToken: string;
  refreshToken: string;
  refreshAt: number; // epoch milliseconds: renew the access token from then on
  user: SessionUser;
}

interface SessionPayload {
  accessToken: string;
  accessTokenExpiresIn: number;
  refreshToken: string;
  user?: SessionUser;
}

async function post<T>(query: string, variables: object, token?: string): Promise<T> {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    accept: "application/graphql-response+json, application/json",
  };
  if (token) headers.authorization = `Bearer ${token}`;
  let response: Response;
  try {
    response = await fetch("/graphql", {
      method: "POST",
      headers,
      body: JSON.stringify({ query, variables }),
      credentials: "omit",
    });
  } catch (error) {
    throw new NetworkError(`The server cannot be reached (${String(error)}).`);
  }
  let body: { data?: T | null; errors?: GraphQLErrorShape[] };
  try {
    body = (await response.json()) as typeof body;
  } catch {
    throw new NetworkError(`The server answered ${response.status} without GraphQL.`);
  }
  if (body.errors?.length) throw new GraphQLRequestError(body.errors);
  if (body.data == null) throw new NetworkError(`The server answered ${response.status} without data.`);
  return body.data;
}

export class Session {
  private stored: Stored | null;
  private refreshing: Promise<string> | null = null;
  /** Called once when the session ends without the user signing out (refresh refused). */
  onEnded: (message: string) => void = () => {};

  private constructor(stored: Stored | null) {
    this.stored = stored;
  }

  static restore(): Session {
    try {
      const raw = sessionStorage.getItem(STORAGE_KEY);
      return new Session(raw ? (JSON.parse(raw) as Stored) : null);
    } catch {
      return new Session(null);
    }
  }

  get user(): SessionUser | null {
    return this.stored?.user ?? null;
  }

  async login(email: string, password: string): Promise<SessionUser> {
    const data = await post<{ login: SessionPayload & { user: SessionUser } }>(LOGIN, { email, password });
    this.keep(data.login, data.login.user);
    return data.login.user;
  }

  /** Accept an invitation (its token from the link) with a new password: the account is
   * made and signed in. */
  async acceptInvitation(token: string, password: string): Promise<SessionUser> {
    const data = await post<{ acceptInvitation: (SessionPayload & { user: SessionUser }) | null }>(ACCEPT_INVITATION, {
      token,
      password,
    });
    const session = data.acceptInvitation;
    if (!session) throw new NetworkError("The server accepted the invitation but started no session.");
    this.keep(session, session.user);
    return session.user;
  }

  /** Ask for a link to set a new password, mailed to `email` if it has an account (the
   * answer is the same either way). */
  async requestPasswordReset(email: string): Promise<void> {
    await post<{ requestPasswordReset: { accepted: boolean } }>(REQUEST_PASSWORD_RESET, { email });
  }

  /** Set a new password with the token of a reset link; answers the account's address,
   * to sign in with (every session of the account has ended). */
  async resetPassword(token: string, newPassword: string): Promise<string> {
    const data = await post<{ resetPassword: { email: string } }>(RESET_PASSWORD, { token, newPassword });
    return data.resetPassword.email;
  }

  /** The second step of signing in: the `mfaToken` of MFA_REQUIRED and a code. */
  async completeLogin(mfaToken: string, code: string): Promise<SessionUser> {
    const data = await post<{ completeLogin: SessionPayload & { user: SessionUser } }>(COMPLETE_LOGIN, {
      mfaToken,
      code,
    });
    this.keep(data.completeLogin, data.completeLogin.user);
    return data.completeLogin.user;
  }

  /** Two-factor sign-in that an administrator requires: a secret for an authenticator app. */
  async enrol(enrolmentToken: string): Promise<{ secret: string; provisioningUri: string }> {
    const data = await post<{ enrollTotp: { secret: string; provisioningUri: string } }>(ENROLL_TOTP, {
      enrolmentToken,
    });
    return data.enrollTotp;
  }

  /** Confirm the enrolment with a code from the app; signs in. The recovery codes, shown once. */
  async confirmEnrolment(enrolmentToken: string, code: string): Promise<string[]> {
    const data = await post<{
      confirmTotp: { recoveryCodes: string[]; session: (SessionPayload & { user: SessionUser }) | null };
    }>(CONFIRM_TOTP, { enrolmentToken, code });
    const session = data.confirmTotp.session;
    if (!session) throw new NetworkError("The server confirmed the code but started no session.");
    this.keep(session, session.user);
    return data.confirmTotp.recoveryCodes;
  }

  async logout(): Promise<void> {
    const refreshToken = this.stored?.refreshToken;
    this.clear();
    if (refreshToken) {
      try {
        await post(LOGOUT, { refreshToken });
      } catch {
        // signed out here either way; the refresh token expires on its own
      }
    }
  }

  /** An access token valid for a while yet, refreshed first when it is about to expire. */
  async accessToken(): Promise<string> {
    const stored = this.stored;
    if (!stored) throw new SessionEnded("Sign in first.");
    if (Date.now() < stored.refreshAt) return stored.accessToken;
    return this.refresh();
  }

  /** The server refused the access token (expired, or the socket was closed with 4403). */
  expireAccessToken(): void {
    if (this.stored) this.stored.refreshAt = 0;
  }

  /** A query or mutation as the signed-in user. */
  async request<T>(query: string, variables: object = {}): Promise<T> {
    try {
      return await post<T>(query, variables, await this.accessToken());
    } catch (error) {
      if (!(error instanceof GraphQLRequestError && error.hasCode("UNAUTHENTICATED"))) throw error;
      this.expireAccessToken();
      return post<T>(query, variables, await this.accessToken());
    }
  }

  /** Send `file` as the body of a POST to an upload route (`url`, with its query) as the
   * signed-in user, once more after a refresh if the token is refused; the answer's
   * `data[key]` (the stored file). The server's errors as GraphQLRequestError. */
  async upload<T>(url: string, file: File, key: string): Promise<T> {
    const send = async (): Promise<Response> =>
      fetch(url, {
        method: "POST",
        headers: { authorization: `Bearer ${await this.accessToken()}`, "content-type": file.type || "application/octet-stream" },
        body: file,
        credentials: "omit",
      });
    let response: Response;
    try {
      response = await send();
      if (response.status === 401) {
        this.expireAccessToken();
        response = await send();
      }
    } catch (error) {
      throw new NetworkError(`The server cannot be reached (${String(error)}).`);
    }
    let body: { data?: Record<string, T | undefined> | null; errors?: GraphQLErrorShape[] };
    try {
      body = (await response.json()) as typeof body;
    } catch {
      throw new NetworkError(`The upload of ${file.name} was answered ${response.status}.`);
    }
    if (body.errors?.length) throw new GraphQLRequestError(body.errors);
    const stored = body.data?.[key];
    if (!stored) throw new NetworkError(`The upload of ${file.name} was answered ${response.status} without the file.`);
    return stored;
  }

  private refresh(): Promise<string> {
    // one refresh at a time: a refresh token is spent by its first use
    this.refreshing ??= this.exchange().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async exchange(): Promise<string> {
    const stored = this.stored;
    if (!stored) throw new SessionEnded("Sign in first.");
    let payload: SessionPayload;
    try {
      const data = await post<{ refreshSession: SessionPayload }>(REFRESH_SESSION, {
        refreshToken: stored.refreshToken,
      });
      payload = data.refreshSession;
    } catch (error) {
      if (error instanceof NetworkError) throw error; // try again later, still signed in
      this.clear();
      const message = "Your session has ended. Please sign in again.";
      this.onEnded(message);
      throw new SessionEnded(message);
    }
    this.keep(payload, stored.user);
    return payload.accessToken;
  }

  private keep(payload: SessionPayload, user: SessionUser): void {
    this.stored = {
      accessToken: payload.accessToken,
      refreshToken: payload.refreshToken,
      refreshAt:
        Date.now() +
        payload.accessTokenExpiresIn * 1000 -
        Math.min(REFRESH_MARGIN_MS, payload.accessTokenExpiresIn * 1000 * REFRESH_MARGIN_SHARE),
      user,
    };
    try {
      sessionStorage.setItem(STORAGE_KEY, JSON.stringify(this.stored));
    } catch {
      // storage full or disabled: the session lasts as long as the page
    }
  }

  private clear(): void {
    this.stored = null;
    try {
      sessionStorage.removeItem(STORAGE_KEY);
    } catch {
      // nothing kept
    }
  }
}
