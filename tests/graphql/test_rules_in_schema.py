"""The SDL says who may do what: every mutation prints the rule it is refused by, and every
rule printed is one named predicate of ``domain.policy``."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from graphql import DirectiveDefinitionNode, ObjectTypeDefinitionNode, parse
from strawberry.permission import BasePermission, PermissionExtension

from domain import policy
from graphql_schema.permissions import IsAuthenticated, Rule
from graphql_schema.schema import schema
from tests.graphql.test_permissions import PUBLIC, root_fields

# Mutations that any signed-in user may run, on what is theirs alone.
ANY_SIGNED_IN = {
    "markNotificationsRead": "marks the caller's own notifications read",
    "disableTotp": "the caller's own second factor, with their password and a code",
    "regenerateRecoveryCodes": "the caller's own recovery codes, with their password and a code",
    "changePassword": "the caller's own password, with the current one",
    "updateMyProfile": "the caller's own name, time zone and locale",
    "setMailPreferences": "the caller's own mail preferences",
    "createAccessToken": "a token of the caller's own, acting as them within its scopes",
    "revokeAccessToken": "the caller's own tokens (administrators: any), others NOT_FOUND",
    "exportMyData": "the caller's own data (administrators: anybody's, others FORBIDDEN)",
}

SDL = parse(schema.as_str())


def _directives_by_mutation() -> dict[str, list[str]]:
    [mutation] = [
        d
        for d in SDL.definitions
        if isinstance(d, ObjectTypeDefinitionNode) and d.name.value == "Mutation"
    ]
    return {  # (an access token's scope, @hasScope, is no rule of who may)
        field.name.value: [
            d.name.value for d in field.directives or () if d.name.value != "hasScope"
        ]
        for field in mutation.fields or ()
    }


def _rule_classes() -> Iterator[type[BasePermission]]:
    """Every permission class on any field of the schema, once."""
    seen: set[type[BasePermission]] = set()
    for type_ in schema._schema.type_map.values():
        for name in getattr(type_, "fields", None) or {}:
            field = schema.get_field_for_type(name, type_.name)
            for extension in field.extensions if field else ():
                if isinstance(extension, PermissionExtension):
                    for permission in extension.permissions:
                        if type(permission) not in seen:
                            seen.add(type(permission))
                            yield type(permission)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def test_every_mutation_prints_the_rule_it_is_refused_by() -> None:
    # given
    mutations = _directives_by_mutation()
    # when
    only_signed_in = [
        name
        for name, directives in mutations.items()
        if name not in PUBLIC
        and name not in ANY_SIGNED_IN
        and not set(directives) - {"isAuthenticated"}
    ]
    # then
    assert only_signed_in == [], "name the rule (a policy predicate) of these mutations"


@pytest.mark.parametrize("field", sorted(ANY_SIGNED_IN))
def test_a_mutation_on_the_callers_own_things_asks_only_for_a_signed_in_caller(
    field: str,
) -> None:
    # when
    directives = _directives_by_mutation().get(field)
    # then
    assert directives == ["isAuthenticated"]


def test_public_mutations_print_no_rule() -> None:
    # given
    mutations = _directives_by_mutation()
    # when
    guarded = {name: mutations[name] for name in PUBLIC & mutations.keys() if mutations[name]}
    # then
    assert guarded == {}


def test_every_root_field_prints_the_rule_its_permission_classes_enforce() -> None:
    # given
    printed = {
        (definition.name.value, field.name.value): [d.name.value for d in field.directives or ()]
        for definition in SDL.definitions
        if isinstance(definition, ObjectTypeDefinitionNode)
        for field in definition.fields or ()
    }
    # when
    differing = []
    for root, name in root_fields():
        field = schema.get_field_for_type(name, root)
        assert field is not None
        declared = [
            type(permission).__name__[:1].lower() + type(permission).__name__[1:]
            for extension in field.extensions
            if isinstance(extension, PermissionExtension)
            for permission in extension.permissions
        ]
        if printed[(root, name)] != declared:
            differing.append((root, name, printed[(root, name)], declared))
    # then
    assert differing == []


def test_every_rule_is_the_policy_predicate_it_is_named_after() -> None:
    # given
    classes = [c for c in _rule_classes() if c is not IsAuthenticated]
    # when
    unnamed = [
        c.__name__
        for c in classes
        if not issubclass(c, Rule) or c.predicate is not getattr(policy, _snake(c.__name__), None)
    ]
    # then
    assert len(classes) >= 10
    assert unnamed == []


def test_every_rule_directive_says_who_passes_it() -> None:
    # given
    definitions = [d for d in SDL.definitions if isinstance(d, DirectiveDefinitionNode)]
    # when
    undescribed = [d.name.value for d in definitions if not d.description]
    # then
    assert "isAccountTeamMember" in {d.name.value for d in definitions}
    assert undescribed == []


def test_the_any_signed_in_list_names_only_existing_mutations() -> None:
    # given
    mutations = {name for root, name in root_fields() if root == "Mutation"}
    # then
    assert ANY_SIGNED_IN.keys() - mutations == set()
