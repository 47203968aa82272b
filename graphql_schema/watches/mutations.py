from __future__ import annotations

import strawberry

from actions import watches
from domain.errors import NotFound
from graphql_schema.context import Info
from graphql_schema.enums import WatchLevel
from graphql_schema.permissions import CanSee, rule
from graphql_schema.relay import decode_global_id, node_pk, parse_global_id, topic_by_id
from graphql_schema.watches.types import Watch
from models import User, WatchTargetKind

_KINDS = {
    "Customer": WatchTargetKind.CUSTOMER,
    "Project": WatchTargetKind.PROJECT,
    "Page": WatchTargetKind.PAGE,
    "Topic": WatchTargetKind.TOPIC,
    "LibraryFolder": WatchTargetKind.FOLDER,
    "LibraryDocument": WatchTargetKind.DOCUMENT,
}


async def _target(viewer: User, target_id: strawberry.ID) -> tuple[WatchTargetKind, int]:
    if parse_global_id(target_id).type_name == "Topic":
        return WatchTargetKind.TOPIC, (await topic_by_id(viewer, target_id)).id
    type_name, node_id = decode_global_id(target_id)
    if type_name not in _KINDS:
        raise NotFound("customer, project, page, topic, library folder or library document")
    return _KINDS[type_name], node_id


@strawberry.input
class WatchInput:
    target_id: strawberry.ID = strawberry.field(
        description="A customer, project, page, topic, library folder or library document."
    )
    level: WatchLevel = WatchLevel.WATCHING


@strawberry.type
class WatchPayload:
    watch: Watch


@strawberry.input
class UnwatchInput:
    target_id: strawberry.ID = strawberry.field(
        description="The watched customer, project, page, topic, library folder or library "
        "document, or the Watch itself."
    )


@strawberry.type
class UnwatchPayload:
    removed: bool = strawberry.field(description="Whether you had a watch there.")


@strawberry.type
class Mutation:
    @strawberry.mutation(
        extensions=rule(CanSee),
        description="Watch a customer, project, page, topic, library folder or library "
        "document at a level (or change the level). A library folder's or document's "
        "watchers are told of new versions, changes of state and acknowledgements asked.",
    )
    async def watch(self, info: Info, input: WatchInput) -> WatchPayload | None:
        viewer = info.context.require_viewer()
        kind, target_id = await _target(viewer, input.target_id)
        row = await watches.watch(
            viewer,
            kind=kind,
            target_id=target_id,
            level=input.level,
        )
        return WatchPayload(watch=Watch.from_row(row))

    @strawberry.mutation(extensions=rule(CanSee), description="Stop watching.")
    async def unwatch(self, info: Info, input: UnwatchInput) -> UnwatchPayload | None:
        viewer = info.context.require_viewer()
        if parse_global_id(input.target_id).type_name == "Watch":
            watch_id = node_pk(input.target_id, "Watch")
            return UnwatchPayload(removed=await watches.unwatch_by_id(viewer, watch_id=watch_id))
        kind, target_id = await _target(viewer, input.target_id)
        return UnwatchPayload(removed=await watches.unwatch(viewer, kind=kind, target_id=target_id))
