// The Node.js peer of benchmarks/fanout.py: the projectTimeline subscription as a team
// would write it with graphql-js and graphql-ws over ws. One PubSub async iterator per
// subscription (graphql-subscriptions), graphql-js executing the selection for every
// subscriber and event, an in-memory event log to resume from `after`.
//
//   node benchmarks/node_peer/server.mjs --port 4000 [--compression default|on|off]
//       [--init-timeout 10000]
//
// --compression (or PEER_COMPRESSION): `default` leaves ws's own default (the server offers
// no permessage-deflate), `on` enables it with ws's default parameters (frames under 1,024
// bytes are sent uncompressed), `off` disables it.
//
// HTTP: POST /publish {"projectId": "...", "body": "...", "actor": "..."} appends one
// MicropostPosted event to the project's log, publishes it and answers {"cursor": "..."};
// GET /healthz answers "ok". Websocket: graphql-transport-ws at /graphql; connection_init
// must carry a payload with `authorization` (any value is accepted).

import { EventEmitter } from "node:events";
import { createServer } from "node:http";
import { parseArgs } from "node:util";

import {
  GraphQLID,
  GraphQLInt,
  GraphQLInterfaceType,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLScalarType,
  GraphQLSchema,
  GraphQLString,
  GraphQLUnionType,
} from "graphql";
import { PubSub } from "graphql-subscriptions";
import { useServer } from "graphql-ws/use/ws";
import { WebSocketServer } from "ws";

const { values: options } = parseArgs({
  options: {
    port: { type: "string", default: process.env.PORT ?? "4000" },
    host: { type: "string", default: "127.0.0.1" },
    compression: { type: "string", default: process.env.PEER_COMPRESSION ?? "default" },
    // graphql-ws closes a socket that sent no connection_init within this many ms (its own
    // default is 3,000); 10,000 as the product's EXTRANET_WS_INIT_TIMEOUT
    "init-timeout": { type: "string", default: process.env.PEER_INIT_TIMEOUT ?? "10000" },
  },
});
if (!["default", "on", "off"].includes(options.compression)) {
  throw new Error(`--compression must be default, on or off; got ${options.compression}`);
}

// ---- the event log and the PubSub ----------------------------------------------------

const emitter = new EventEmitter();
emitter.setMaxListeners(0); // one listener per subscription, tens of thousands of them
const pubsub = new PubSub({ eventEmitter: emitter });
const logs = new Map(); // projectId -> events in cursor order
let lastId = 0;

const channel = (projectId) => `timeline:${projectId}`;
const toCursor = (id) => Buffer.from(`event:${id}`).toString("base64");
const fromCursor = (cursor) => {
  if (cursor == null) return null;
  const match = /^event:(\d+)$/.exec(Buffer.from(cursor, "base64").toString());
  if (!match) throw new Error("after: not a cursor of this timeline");
  return Number(match[1]);
};

function publish(projectId, body, actor) {
  lastId += 1;
  const event = {
    kind: "MicropostPosted",
    id: lastId,
    occurredAt: new Date(),
    actor: { name: actor },
    micropost: { id: Buffer.from(`Micropost:${lastId}`).toString("base64"), body, replyCount: 0 },
  };
  if (!logs.has(projectId)) logs.set(projectId, []);
  logs.get(projectId).push(event);
  pubsub.publish(channel(projectId), event);
  return event;
}

// What came after `after` (replayed first), then the live events. The live iterator
// listens from the moment the log is read, so nothing published in between is lost.
function timeline(projectId, after) {
  const afterId = fromCursor(after);
  const live = pubsub.asyncIterableIterator(channel(projectId));
  let pending = live.next(); // subscribes now (graphql-subscriptions subscribes on first next)
  const replay = afterId == null ? [] : (logs.get(projectId) ?? []).filter((e) => e.id > afterId);
  let seen = replay.length ? replay[replay.length - 1].id : (afterId ?? lastId);
  let index = 0;
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next() {
      if (index < replay.length) return { value: replay[index++], done: false };
      for (;;) {
        const result = await (pending ?? live.next());
        pending = null;
        if (result.done || result.value.id > seen) {
          if (!result.done) seen = result.value.id;
          return result;
        }
      }
    },
    return() {
      return live.return();
    },
    throw(error) {
      return live.throw(error);
    },
  };
}

// ---- the schema: the part of the product's that benchmarks/fanout.py selects ----------

const DateTime = new GraphQLScalarType({
  name: "DateTime",
  serialize: (value) => (value instanceof Date ? value.toISOString() : String(value)),
});
const User = new GraphQLObjectType({
  name: "User",
  fields: { name: { type: new GraphQLNonNull(GraphQLString) } },
});
const Micropost = new GraphQLObjectType({
  name: "Micropost",
  fields: {
    id: { type: new GraphQLNonNull(GraphQLID) },
    body: { type: new GraphQLNonNull(GraphQLString) },
    replyCount: { type: new GraphQLNonNull(GraphQLInt) },
  },
});
const eventFields = {
  cursor: { type: new GraphQLNonNull(GraphQLString), resolve: (event) => toCursor(event.id) },
  occurredAt: { type: new GraphQLNonNull(DateTime) },
  actor: { type: new GraphQLNonNull(User) },
};
const TimelineEvent = new GraphQLInterfaceType({ name: "TimelineEvent", fields: eventFields });
const MicropostPosted = new GraphQLObjectType({
  name: "MicropostPosted",
  interfaces: [TimelineEvent],
  fields: { ...eventFields, micropost: { type: Micropost } },
});
const ProjectStatusChanged = new GraphQLObjectType({
  name: "ProjectStatusChanged",
  interfaces: [TimelineEvent],
  fields: { ...eventFields, status: { type: new GraphQLNonNull(GraphQLString) } },
});
const ProjectTimelineEvent = new GraphQLUnionType({
  name: "ProjectTimelineEvent",
  types: [MicropostPosted, ProjectStatusChanged],
  resolveType: (event) => event.kind,
});

const schema = new GraphQLSchema({
  query: new GraphQLObjectType({
    name: "Query",
    fields: { ok: { type: GraphQLString, resolve: () => "ok" } },
  }),
  subscription: new GraphQLObjectType({
    name: "Subscription",
    fields: {
      projectTimeline: {
        type: new GraphQLNonNull(ProjectTimelineEvent),
        args: {
          projectId: { type: new GraphQLNonNull(GraphQLID) },
          after: { type: GraphQLString },
        },
        subscribe: (_root, { projectId, after }) => timeline(projectId, after),
        resolve: (event) => event,
      },
    },
  }),
});

// ---- HTTP and websockets -----------------------------------------------------------

async function readJson(request) {
  const chunks = [];
  for await (const chunk of request) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString() || "{}");
}

const server = createServer(async (request, response) => {
  if (request.method === "GET" && request.url === "/healthz") {
    response.end("ok");
    return;
  }
  if (request.method === "POST" && request.url === "/publish") {
    const { projectId, body, actor } = await readJson(request);
    const event = publish(String(projectId), String(body), String(actor ?? "Sam"));
    response.setHeader("content-type", "application/json");
    response.end(JSON.stringify({ cursor: toCursor(event.id) }));
    return;
  }
  response.statusCode = 404;
  response.end();
});

const wsOptions = { server, path: "/graphql" };
if (options.compression !== "default") wsOptions.perMessageDeflate = options.compression === "on";
const wsServer = new WebSocketServer(wsOptions);

useServer(
  {
    schema,
    connectionInitWaitTimeout: Number(options["init-timeout"]),
    onConnect: (ctx) => Boolean(ctx.connectionParams?.authorization),
  },
  wsServer,
);

server.listen(Number(options.port), options.host, () => {
  console.log(`node peer on ${options.host}:${options.port}, compression ${options.compression}`);
});
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => process.exit(0));
