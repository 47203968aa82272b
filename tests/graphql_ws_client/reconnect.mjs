// graphql-ws's own client, as a third-party app uses it: sign in over HTTP, follow a
// project's timeline over the websocket with the defaults of createClient (its own retry
// rules: no shouldRetry of ours), and let connectionParams hand over a valid access token,
// renewed with refreshSession once it has expired. The subscription keeps its cursor in the
// payload that graphql-ws sends again on every reconnection.
//
// Environment: EXTRANET_URL (http://host:port), EXTRANET_EMAIL, EXTRANET_PASSWORD,
// EXTRANET_PROJECT (a project's global ID), EXTRANET_EVENTS (how many distinct events to
// wait for). Prints one JSON object a line: {"params"}, {"connected"}, {"closed"},
// {"event"} and, once every event came, {"done"}; {"error"} and exit code 1 otherwise.

import { createClient } from "graphql-ws";
import WebSocket from "ws";

const base = process.env.EXTRANET_URL;
const wanted = Number(process.env.EXTRANET_EVENTS);
const say = (message) => process.stdout.write(`${JSON.stringify(message)}\n`);

const LOGIN = `mutation ($email: String!, $password: String!) {
  login(input: { email: $email, password: $password }) { accessToken refreshToken } }`;
const REFRESH = `mutation ($refreshToken: String!) {
  refreshSession(input: { refreshToken: $refreshToken }) { accessToken refreshToken } }`;
const CURSOR = `query ($id: ID!) { project(id: $id) { timelineCursor } }`;
const EVENTS = `subscription ($projectId: ID!, $after: String) {
  projectTimeline(projectId: $projectId, after: $after) {
    __typename
    ... on TimelineEvent { cursor }
    ... on MicropostPosted { micropost { body } }
  }
}`;

async function post(query, variables, token) {
  const headers = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`${base}/graphql`, {
    method: "POST",
    headers,
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors?.length) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

function expiresAt(token) {
  const claims = JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString());
  return claims.exp * 1000;
}

let tokens = (
  await post(LOGIN, { email: process.env.EXTRANET_EMAIL, password: process.env.EXTRANET_PASSWORD })
).login;

/** The access token, renewed first when it has expired (as most apps' auth layers do). */
async function validToken() {
  let refreshed = false;
  if (expiresAt(tokens.accessToken) <= Date.now()) {
    tokens = (await post(REFRESH, { refreshToken: tokens.refreshToken })).refreshSession;
    refreshed = true;
  }
  say({ params: true, refreshed, token: tokens.accessToken.slice(-16) });
  return tokens.accessToken;
}

const projectId = process.env.EXTRANET_PROJECT;
const after = (await post(CURSOR, { id: projectId }, tokens.accessToken)).project.timelineCursor;
const payload = { query: EVENTS, variables: { projectId, after } };

const client = createClient({
  url: `${base.replace(/^http/, "ws")}/graphql`,
  webSocketImpl: WebSocket,
  connectionParams: async () => ({ authorization: `Bearer ${await validToken()}` }),
  on: {
    connected: () => say({ connected: true }),
    closed: (event) => say({ closed: event.code, reason: event.reason }),
  },
});

const seen = new Set();
const finished = new Promise((resolve, reject) => {
  client.subscribe(payload, {
    next: (result) => {
      if (result.errors?.length) {
        reject(new Error(JSON.stringify(result.errors)));
        return;
      }
      const event = result.data.projectTimeline;
      payload.variables.after = event.cursor; // where a reconnection resumes
      say({ event: event.__typename, body: event.micropost?.body ?? null, cursor: event.cursor });
      if (event.micropost) seen.add(event.micropost.body);
      if (seen.size >= wanted) resolve();
    },
    error: (error) => reject(error),
    complete: () => reject(new Error("the subscription completed")),
  });
});

try {
  await finished;
  say({ done: true });
  await client.dispose();
  process.exit(0);
} catch (error) {
  const detail = error instanceof Error ? error.message : { code: error?.code, reason: error?.reason };
  say({ error: detail });
  process.exit(1);
}
