"""Subscribers of one event share its execution and its serialised frame.

When a post appears on a timeline that 2,000 people follow, most of them sent the same
subscription document. Executing its selection set once per subscriber, serialising the
same JSON 2,000 times and passing each result through the per-operation machinery is most
of what a naive GraphQL subscription costs. Here, an event is executed once per *sharing
key*, and the subscription resolver sends the shared text itself (:class:`Delivery`):

* the document and operation name,
* the values of the variables its selection set uses (not the root field's arguments such
  as ``after``, which only position the stream),
* the readers it is valid for, from the fields the selection reads (:mod:`varies`):
  everybody, one audience (:func:`domain.policy.audience`), or one viewer,
* the event.

Every subscriber still receives only the events it may see (the stream checks that before
anything is executed), and a subscriber whose selection reads something personal shares
results only with its own other connections. Errors and the end of a stream (``FORBIDDEN``
on removal, a client that fell behind) still go through strawberry's own protocol handler.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable, Mapping
from typing import TYPE_CHECKING, Any

import orjson
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    Node,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    is_abstract_type,
    is_object_type,
)
from strawberry import relay
from strawberry.permission import PermissionExtension
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.graphql import OperationType

from domain import policy
from graphql_schema.varies import KEY, Varies
from infra import metrics, tracing
from infra.lru import LRU
from models import Event, Visibility

if TYPE_CHECKING:
    from graphql_schema.context import Info
    from realtime.bus import EventBus

_GLOBAL_ID = relay.Node._id.__func__  # the `id` of every Node: its type name and row id


def _is_global_id(resolver: Any) -> bool:
    function = resolver.wrapped_func
    return getattr(function, "__func__", function) is _GLOBAL_ID


def field_varies(field: GraphQLField) -> Varies:
    """How much this field's value depends on its reader: declared in ``metadata``, by
    its permission classes, or inferred (no resolver, or one that never sees ``info``,
    cannot tell readers apart; anything else is assumed personal)."""
    definition = field.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if definition is None:
        return Varies.BY_VIEWER
    declared = (definition.metadata or {}).get(KEY)
    if declared is None:
        resolver = definition.base_resolver
        if resolver is None or resolver.info_parameter is None or _is_global_id(resolver):
            declared = Varies.NOT
        else:
            declared = Varies.BY_VIEWER
    for extension in definition.extensions:
        if isinstance(extension, PermissionExtension):
            for permission in extension.permissions:
                declared = max(declared, getattr(permission, "varies", Varies.BY_VIEWER))
    return Varies(declared)


def _object_types(schema: GraphQLSchema, named: GraphQLNamedType) -> list[GraphQLObjectType]:
    if is_abstract_type(named):
        return list(schema.get_possible_types(named))
    return [named] if is_object_type(named) else []


class _Walk:
    """The most personal field a selection set reads, through fragments and unions."""

    def __init__(
        self, schema: GraphQLSchema, fragments: Mapping[str, FragmentDefinitionNode]
    ) -> None:
        self.schema = schema
        self.fragments = fragments

    def _narrow(
        self, parents: list[GraphQLObjectType], condition: str | None
    ) -> list[GraphQLObjectType]:
        if condition is None:
            return parents
        named = self.schema.get_type(condition)
        if named is None:
            return []
        possible = _object_types(self.schema, named)
        return [parent for parent in parents if parent in possible]

    def selection_set(
        self,
        selections: SelectionSetNode,
        parents: list[GraphQLObjectType],
        *,
        root: bool = False,
        spread: frozenset[str] = frozenset(),
    ) -> Varies:
        worst = Varies.NOT
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                worst = max(worst, self.field(selection, parents, root=root))
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                types = self._narrow(parents, condition.name.value if condition else None)
                worst = max(worst, self.selection_set(selection.selection_set, types, root=root))
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in spread:
                    continue
                types = self._narrow(parents, fragment.type_condition.name.value)
                worst = max(
                    worst,
                    self.selection_set(
                        fragment.selection_set, types, root=root, spread=spread | {name}
                    ),
                )
            if worst is Varies.BY_VIEWER:
                break
        return worst

    def field(self, node: FieldNode, parents: list[GraphQLObjectType], *, root: bool) -> Varies:
        name = node.name.value
        if name.startswith("__"):
            return Varies.NOT  # __typename: the same for everybody
        worst = Varies.NOT
        for parent in parents:
            field = parent.fields.get(name)
            if field is None:
                continue
            if not root:  # the root field resolves to the event itself
                worst = max(worst, field_varies(field))
            if node.selection_set is not None:
                children = _object_types(self.schema, get_named_type(field.type))
                worst = max(worst, self.selection_set(node.selection_set, children))
        return worst


def selection_varies(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
) -> Varies:
    """How much the result of one subscription event depends on who receives it."""
    root = schema.subscription_type
    if root is None:
        return Varies.BY_VIEWER
    return _Walk(schema, fragments).selection_set(operation.selection_set, [root], root=True)


def _variables_in(node: Node | None, names: set[str]) -> None:
    if node is None:
        return
    if isinstance(node, VariableNode):
        names.add(node.name.value)
        return
    for key in node.keys:
        value = getattr(node, key, None)
        if isinstance(value, Node):
            _variables_in(value, names)
        elif isinstance(value, (tuple, list)):
            for item in value:
                if isinstance(item, Node):
                    _variables_in(item, names)


def selection_variables(
    operation: OperationDefinitionNode, fragments: Mapping[str, FragmentDefinitionNode]
) -> set[str]:
    """The variables used below the root fields and in directives: the root fields'
    own arguments (``projectId``, ``after``) choose the stream, not what an event shows."""
    names: set[str] = set()
    for selection in operation.selection_set.selections:
        if isinstance(selection, FieldNode):
            for directive in selection.directives or ():
                _variables_in(directive, names)
            _variables_in(selection.selection_set, names)
        else:
            _variables_in(selection, names)
    for fragment in fragments.values():
        _variables_in(fragment, names)
    return names


class _Shared:
    """One event executed for one sharing key: the ``next`` payload as JSON text, once
    the execution (a task of its own) finishes."""

    __slots__ = ("error", "task", "text", "waiters")

    def __init__(self) -> None:
        self.text: str | None = None
        self.error: BaseException | None = None
        self.task: asyncio.Future[str] | None = None
        # One future per waiting subscriber: a subscriber that leaves cancels only its own
        # (nothing to remove: thousands of waiters cost linear time, not quadratic).
        self.waiters: list[asyncio.Future[None]] = []

    @property
    def done(self) -> bool:
        return self.text is not None or self.error is not None

    def finish(self, task: asyncio.Future[str]) -> None:
        if task.cancelled():
            self.error = RuntimeError("The shared execution of an event was cancelled.")
        elif (error := task.exception()) is not None:
            self.error = error
        else:
            self.text = task.result()
        waiters, self.waiters = self.waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)


class SharedPayloads:
    """The payloads of recent event executions by sharing key, one set per process. The
    first subscriber that needs one starts its execution in a task of its own (leaving
    does not cancel it for the others); the rest wait for it, each on its own waiter."""

    def __init__(self, size: int = 1024) -> None:
        self._recent: LRU[Hashable, _Shared] = LRU(size)
        self._shapes: LRU[Hashable, Hashable] = LRU(size)
        self.executions = 0

    def shape(self, shape: Hashable) -> Hashable:
        """The one instance of an equal sharing shape that subscribers of it hold (thousands
        of sockets, one copy)."""
        found = self._shapes.get(shape)
        return self._shapes.put(shape, shape) if found is None else found

    def ready(self, key: Hashable) -> str | None:
        """The payload for ``key`` if it has been executed successfully."""
        shared = self._recent.get(key)
        return None if shared is None else shared.text

    async def payload(self, key: Hashable, execute: Callable[[], Awaitable[str]]) -> str:
        shared = self._recent.get(key)
        if shared is None or shared.error is not None:  # a failed execution is retried
            shared = self._recent.put(key, _Shared())
            self.executions += 1
            shared.task = asyncio.ensure_future(execute())
            shared.task.add_done_callback(shared.finish)
        if not shared.done:
            waiter = asyncio.get_running_loop().create_future()
            shared.waiters.append(waiter)
            await waiter
        if shared.error is not None:
            raise shared.error
        assert shared.text is not None
        return shared.text


Root = Callable[[Event], object]
"""The GraphQL object an event is executed as."""


FANOUT_LAG_MOST = 60.0  # seconds: an event delivered later is a replay from the log


def _observe_lag(event: Event) -> None:
    lag = time.time() - event.created_at.timestamp()
    if lag < FANOUT_LAG_MOST:  # an older event is a replay from the log, not fan-out
        metrics.FANOUT_LAG.observe(lag)


class Delivery:
    """Where one ``subscribe`` message of a graphql-transport-ws connection sends its
    events: each one executed once per sharing key and sent as that shared text with this
    operation's ``id``. It is the operation's root value (app/main.py starts each operation
    with its own), found there by :class:`graphql_schema.subscriptions.Frames`."""

    def __init__(
        self,
        send_text: Callable[[str], Awaitable[None]],
        shared: SharedPayloads,
        operation_id: str,
        query: str,
        variables: dict[str, Any] | None,
        operation_name: str | None,
        write_now: Callable[[str], bool] | None = None,
    ) -> None:
        """``send_text``: sends a text frame to the operation's socket; ``write_now``: the
        same at once, without waiting (False when the socket cannot take it now, and
        nothing was sent)."""
        self._send_text = send_text
        self._write_now = write_now
        self._shared = shared
        self._id = orjson.dumps(operation_id).decode()
        self._query = query
        self._variables = variables
        self._operation_name = operation_name
        self._shape: Hashable | None = None

    def _sharing_shape(self, info: Info) -> Hashable:
        """What, besides the event, decides the payload: the document, the variables its
        selection uses, and the readers its fields vary by."""
        if self._shape is None:
            raw = info._raw_info
            operation, fragments = raw.operation, raw.fragments
            varies = selection_varies(raw.schema, operation, fragments)
            viewer = info.context.require_viewer()
            readers: Hashable = ()
            if varies is Varies.BY_AUDIENCE:
                readers = policy.audience(viewer)
            elif varies is Varies.BY_VIEWER:
                readers = ("viewer", viewer.id)
            used = selection_variables(operation, fragments)
            values = {k: v for k, v in (self._variables or {}).items() if k in used}
            variables = orjson.dumps(values, option=orjson.OPT_SORT_KEYS).decode()
            shape = (self._query, self._operation_name, variables, readers)
            self._shape = self._shared.shape(shape)
        return self._shape

    async def send(self, info: Info, event: Event, root: Root) -> None:
        """Send the event (``root(event)`` is its GraphQL object) to this operation's client."""
        payload = await self._payload(info, event, root)
        await self._send_text(f'{{"id":{self._id},"type":"next","payload":{payload}}}')
        _observe_lag(event)

    def send_now(self, info: Info, event: Event, root: Root) -> bool:
        """Send the event at once if its shared payload is ready (usually executed by a
        preparer before the subscribers were told) and the socket takes the frame without
        waiting; False, with nothing sent, otherwise (then :meth:`send` it)."""
        write_now = self._write_now
        if write_now is None:
            return False
        payload = self._shared.ready((self._sharing_shape(info), event.id, event.created_at))
        if payload is None:
            return False
        if not write_now(f'{{"id":{self._id},"type":"next","payload":{payload}}}'):
            return False
        _observe_lag(event)
        return True

    async def _payload(self, info: Info, event: Event, root: Root) -> str:
        key = (self._sharing_shape(info), event.id, event.created_at)
        payload = self._shared.ready(key)  # executed already, usually by a preparer
        if payload is None:
            payload = await self._shared.payload(key, lambda: self._execute(info, event, root))
        return payload

    def prepare_on(self, info: Info, bus: EventBus, channel: str, root: Root) -> Callable[[], None]:
        """Have each live event of ``channel`` executed for this operation's sharing key
        before the channel's subscribers are woken for it, so that they find it ready
        instead of all waiting for it. Returns the function that stops this."""
        viewer = info.context.require_viewer()

        async def prepare(raw: str) -> None:
            live = bus.live_events.get(raw)
            if live is not None and policy.can_see_visibility(viewer, live[0].visibility):
                await self._payload(info, live[1], root)

        reads_internal = policy.can_see_visibility(viewer, Visibility.INTERNAL)
        return bus.prepare(channel, (self._sharing_shape(info), reads_internal), prepare)

    async def _execute(self, info: Info, event: Event, root: Root) -> str:
        context = info.context
        # the event's rows are current, and shared with every subscriber delivering it
        context.loaders.reset(context.shared_rows.for_event(event))
        # one span per event and sharing key (not per subscriber), linked to its publisher
        with tracing.delivery_span(event.id):
            result = await info.schema.execute(
                self._query,
                variable_values=self._variables,
                context_value=context,
                root_value=root(event),
                operation_name=self._operation_name,
                allowed_operation_types=(OperationType.SUBSCRIPTION,),
            )
        payload: dict[str, Any] = {"data": result.data}
        if result.errors:
            payload["errors"] = [error.formatted for error in result.errors]
        if result.extensions:
            payload["extensions"] = result.extensions
        return orjson.dumps(payload).decode()
