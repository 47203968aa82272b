// Starts GraphiQL (development only) against this server's /graphql: queries and mutations
// over HTTP, subscriptions over its websocket. Every script comes from this server.
(function () {
  "use strict";
  var endpoint = new URL("/graphql", window.location.href);
  var socket = new URL(endpoint.href);
  socket.protocol = endpoint.protocol === "https:" ? "wss:" : "ws:";

  var fetcher = GraphiQL.createFetcher({
    url: endpoint.href,
    subscriptionUrl: socket.href,
  });

  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultEditorToolsVisibility: true,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: true,
      defaultHeaders: '{\n  "Authorization": "Bearer <access token from the login mutation>"\n}',
      defaultQuery: "# Sign in with the login mutation, then put its access token in the\n# Authorization header below.\n{\n  __typename\n}\n",
    }),
  );
})();
