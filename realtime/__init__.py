"""Real-time transport: channels, the broadcaster backends, in-process fan-out with bounded
queues, the event horizon, ordered event streams, the presence store and the socket count.

It knows no GraphQL and no policy (the import contract ``transport-knows-no-policy``):
what a viewer may receive, from which cursor and for how long is decided above it, in
graphql_schema/subscriptions.py; writing and publishing are the actions'.

The path of a post to a websocket frame, mutation → action → event → channel → shared
execution → frame, reads in one direction; each hop is named at the call site of the one
before it (a helper that returns to its caller, such as encoding, decoding, a policy
predicate or ``Horizon.gap``, counts with its caller):

1. mutation: graphql_schema/microposts/mutations.py ``Mutation.post_micropost``;
2. action: actions/microposts.py ``post_micropost`` writes the post, its Event and the
   notifications in one unit of work, which publishes them after the commit, with the
   users notified;
3. event: realtime/bus.py ``EventBus.publish`` puts the event (realtime/events.py
   ``TimelineMessage``) on the project's channel and the notified users' feeds, then ticks
   it (realtime/horizon.py);
4. channel: realtime/_fanout.py ``Fanout._pump`` runs the channel's preparers before it
   offers the message to each subscriber's bounded queue;
5. preparer: the one graphql_schema/subscriptions.py ``Frames`` registered for its sharing
   key (graphql_schema/sharing.py ``Delivery.prepare_on``) decodes the event and checks
   the readers' visibility;
6. shared execution: ``Delivery`` executes the event once per sharing key;
7. order: realtime/stream.py ``EventStream``, woken by its queue, yields the event once
   every lower id is settled;
8. rights: graphql_schema/subscriptions.py ``timeline_events`` passes on what the viewer
   may read (their rights are checked again at each control signal of the channel) to the
   operation's ``send``;
9. ``Delivery.send``: the shared text with the operation's id; the ``Delivery`` is the
   operation's root value, made by app/main.py ``TransportWSHandler.run_operation``;
10. frame: ``TransportWSHandler._send_text``.

Before, counted the same way, eleven: the resolver; the action, which called
``EventBus.publish``; ``publish``, which read the notified users back from the database;
``Fanout._pump``; the preparer in sharing.py; the shared execution; ``stream._stream`` (the
transport itself checking visibility and rights with the policy); the timeline's
``_delivered``; ``current_delivery()``, a ContextVar that app/main.py had set before
strawberry created the operation's task, so that no call site showed where the delivery
came from; ``Delivery.send``; ``_send_text``. Counting every helper as a hop of its own
(``TimelineMessage.encode``, ``LiveEvents.get``, ``can_see_visibility``, ``Horizon.gap``), 14
hops then over 10 files, 13 now.
"""
